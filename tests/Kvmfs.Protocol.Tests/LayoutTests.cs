using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Protocol.Tests;

/// <summary>
/// The C# UAPI against the arm64 Linux 6.1 headers, compared by the C compiler itself: one
/// test case per struct, per ioctl, per constant class. The cases come from reflection, so a
/// struct, ioctl or constant added to protocol/Uapi is compared without touching this file.
/// Needs `make setup` (aarch64 cross compiler, arm64 kernel headers, qemu-user-static).
/// </summary>
public class LayoutTests
{
    private static IReadOnlyDictionary<string, ulong> CValues()
    {
        var probe = LayoutProbe.Get();
        if (probe.Error is not null) Assert.Fail(probe.Error);
        return probe.Values;
    }

    private static void Compare(List<string> mismatches, IReadOnlyDictionary<string, ulong> c, string key, ulong csharp)
    {
        if (!c.TryGetValue(key, out ulong cValue)) mismatches.Add($"{key}: the C program printed nothing");
        else if (cValue != csharp) mismatches.Add($"{key}: C says {cValue} (0x{cValue:x}), C# says {csharp} (0x{csharp:x})");
    }

    public static TheoryData<string> StructNames()
    {
        var data = new TheoryData<string>();
        foreach (var s in UapiReflection.Structs()) data.Add(s.CName);
        return data;
    }

    public static TheoryData<string> IoctlNames()
    {
        var data = new TheoryData<string>();
        foreach (var io in IoctlTable.All) data.Add(io.Name);
        return data;
    }

    public static TheoryData<string> ConstantClasses()
    {
        var data = new TheoryData<string>();
        foreach (var name in UapiReflection.Constants().Select(k => k.Class).Distinct()) data.Add(name);
        return data;
    }

    [Theory, MemberData(nameof(StructNames))]
    public void StructSizeOffsetsAndFieldSizesMatchTheArm64Headers(string cname)
    {
        var s = UapiReflection.Structs().Single(x => x.CName == cname);
        if (s.SkipReason is not null)
        {
            // Newer than the 6.1 headers: deliberately not compared, and not asked of the C program.
            Assert.DoesNotContain($"sizeof {cname}", CValues().Keys);
            return;
        }
        var c = CValues();
        var mismatches = new List<string>();
        Compare(mismatches, c, $"sizeof {s.CName}", (ulong)s.Size);
        foreach (var f in s.Fields)
        {
            Compare(mismatches, c, $"offsetof {s.CName} {f.Path}", (ulong)f.Offset);
            Compare(mismatches, c, $"fieldsize {s.CName} {f.Path}", (ulong)f.Size);
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory, MemberData(nameof(IoctlNames))]
    public void IoctlNumberAndArgumentSizeMatchTheArm64Headers(string name)
    {
        var io = IoctlTable.All.Single(i => i.Name == name);
        if (UapiReflection.IoctlSkipReason(io) is not null) return;
        var c = CValues();
        var mismatches = new List<string>();
        Compare(mismatches, c, $"ioctl {io.Name}", io.Command);
        if (IoctlTable.CStructName(io) is not null)
            Compare(mismatches, c, $"argsize {io.Name}", io.Size);
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory, MemberData(nameof(ConstantClasses))]
    public void ConstantsMatchTheArm64Headers(string className)
    {
        var c = CValues();
        var mismatches = new List<string>();
        foreach (var k in UapiReflection.Constants().Where(k => k.Class == className && k.SkipReason is null))
            Compare(mismatches, c, $"const {k.Name}", k.Value);
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void CoreRegisterIdsAndSizesMatchKvmRegCoreReg()
    {
        var c = CValues();
        var mismatches = new List<string>();
        foreach (var r in CoreRegs.All)
        {
            Compare(mismatches, c, $"coreid {r.Name}", r.Id);
            Compare(mismatches, c, $"coresize {r.Name}", (ulong)r.Size);
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void TheComparisonCoversEverything()
    {
        // Anything declared shows up in the C source, compared or skipped with its reason, and
        // the C program printed a value for every line it was asked for.
        string source = LayoutProbe.GenerateSource();
        foreach (var s in UapiReflection.Structs())
            Assert.Contains($"struct {s.CName}", source);
        foreach (var io in IoctlTable.All)
            Assert.Contains(io.Name, source);
        foreach (var k in UapiReflection.Constants())
            Assert.Contains(k.Name, source);
        int printed = source.Split('\n').Count(l => l.TrimStart().StartsWith("P(\"", StringComparison.Ordinal));
        Assert.Equal(printed, CValues().Count);
        Assert.True(printed > 900, $"only {printed} values compared");
    }

    [Fact]
    public void AMissingCrossCompilerFailsWithTheSetupHint()
    {
        var result = LayoutProbe.Run(path: "/nonexistent-kvmfs-dir");
        Assert.NotNull(result.Error);
        Assert.Contains("aarch64-linux-gnu-gcc is missing", result.Error);
        Assert.Contains("make setup", result.Error);
        Assert.Empty(result.Values);
    }
}
