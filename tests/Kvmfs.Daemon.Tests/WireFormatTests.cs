using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Protocol.Wire;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// The wire format exists twice, as C (protocol/shim/kvmfs-wire.h, compiled into the shim) and as
/// C# (protocol/Wire). A C program built from the header prints every size, field offset and
/// constant; they must equal the C# ones, for the host build and for the aarch64 build (run under
/// qemu-aarch64-static), so an x86-64 daemon and an arm64 shim read the same bytes.
/// </summary>
[Trait("Needs", "gcc, aarch64-linux-gnu-gcc, qemu-aarch64-static")]
public class WireFormatTests
{
    private static string Program()
    {
        var sb = new StringBuilder();
        sb.AppendLine("#include <stdio.h>\n#include <stddef.h>\n#include \"kvmfs-wire.h\"\nint main(void) {");
        foreach (var (cname, type) in WireLayout.Structs)
        {
            sb.AppendLine($"  printf(\"sizeof {cname} %zu\\n\", sizeof(struct {cname}));");
            foreach (var f in type.GetFields())
                sb.AppendLine($"  printf(\"offsetof {cname}.{f.Name} %zu\\n\", offsetof(struct {cname}, {f.Name}));");
        }
        foreach (var (cname, _) in WireLayout.Constants)
            sb.AppendLine($"  printf(\"const {cname} %llu\\n\", (unsigned long long)({cname}));");
        sb.AppendLine("  printf(\"string KVMFS_WIRE_DEFAULT_SOCKET %s\\n\", KVMFS_WIRE_DEFAULT_SOCKET);");
        sb.AppendLine("  return 0;\n}");
        return sb.ToString();
    }

    private static Dictionary<string, string> Expected()
    {
        var d = new Dictionary<string, string>();
        foreach (var (cname, type) in WireLayout.Structs)
        {
            d[$"sizeof {cname}"] = Marshal.SizeOf(type).ToString();
            foreach (var f in type.GetFields())
                d[$"offsetof {cname}.{f.Name}"] = Marshal.OffsetOf(type, f.Name).ToString();
        }
        foreach (var (cname, value) in WireLayout.Constants) d[$"const {cname}"] = value.ToString();
        d["string KVMFS_WIRE_DEFAULT_SOCKET"] = Wire.DefaultSocket;
        return d;
    }

    private static Dictionary<string, string> Measured(string output)
    {
        var d = new Dictionary<string, string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int sp = line.LastIndexOf(' ');
            d[line[..sp]] = line[(sp + 1)..];
        }
        return d;
    }

    private static void Check(bool arm64)
    {
        string dir = Path.Combine(Toolchain.WorkDir, "wire");
        Directory.CreateDirectory(dir);
        string src = Path.Combine(dir, "wire_layout.c");
        File.WriteAllText(src, Program());
        string exe = Path.Combine(dir, arm64 ? "wire_layout.arm64" : "wire_layout.host");
        Toolchain.Run(arm64 ? "aarch64-linux-gnu-gcc" : "gcc",
            ["-Wall", "-I", Path.Combine(Toolchain.RepoRoot, "protocol", "shim"), "-o", exe, src], 60);
        var run = arm64 ? Toolchain.Run("qemu-aarch64-static", ["-L", "/usr/aarch64-linux-gnu", exe], 60)
                        : Toolchain.Run(exe, [], 60);
        Assert.Equal(0, run.ExitCode);
        var measured = Measured(run.Stdout);
        var expected = Expected();
        var wrong = expected.Where(kv => measured.GetValueOrDefault(kv.Key) != kv.Value)
                            .Select(kv => $"{kv.Key}: C# {kv.Value}, C {measured.GetValueOrDefault(kv.Key) ?? "missing"}").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(expected.Count > 60, "the layout table lost entries");
    }

    [Fact]
    public void HostBuildOfTheHeaderAgreesWithCSharp() => Check(arm64: false);

    [Fact]
    public void Arm64BuildOfTheHeaderAgreesWithCSharp() => Check(arm64: true);

    [Fact]
    public void EveryMessageTypeIsInTheLayoutTable()
    {
        var listed = WireLayout.Constants.Where(c => c.CName.StartsWith("KVMFS_MSG_")).Select(c => c.Value).ToHashSet();
        foreach (MsgType t in Enum.GetValues<MsgType>()) Assert.Contains((ulong)t, listed);
    }
}
