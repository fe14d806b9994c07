using System.Runtime.InteropServices;
using System.Text.Json;
using Kvmfs.Protocol.Trace;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Protocol.Tests;

/// <summary>docs/trace-format.md is a product contract: its JSON examples parse, and every
/// top-level JSON field the formatter writes is documented there.</summary>
public class TraceDocsTests
{
    private static string Doc()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "trace-format.md");
            if (File.Exists(candidate)) return File.ReadAllText(candidate);
        }
        // Tests run from the artifacts folder; fall back to the source tree this file lives in.
        var here = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "..", "docs", "trace-format.md"));
        return File.ReadAllText(here);
    }

    private static string ThisFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    private static byte[] B<T>(T value) where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref value, 1)).ToArray();

    [Fact]
    public void JsonExamplesParseAndCarryTheRequiredFields()
    {
        var lines = Doc().Split('\n').Where(l => l.StartsWith("{\"time\"", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count >= 3);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var field in new[] { "time", "pid", "object", "id", "ioctl", "known", "cmd", "arg", "args", "result", "duration_us" })
                Assert.True(doc.RootElement.TryGetProperty(field, out _), $"{field} missing in {line}");
        }
    }

    [Fact]
    public void EveryJsonFieldTheFormatterWritesIsDocumented()
    {
        string doc = Doc();
        var run = new KvmRun { exit_reason = KvmExit.KVM_EXIT_INTR };
        IoctlTraceEvent[] events =
        [
            new() { Time = DateTimeOffset.UnixEpoch, Pid = 1, ObjectKind = "vcpu", ObjectId = 0, Command = KvmIoctls.KVM_RUN, Argument = 0, Result = 0, Run = B(run) },
            new() { Time = DateTimeOffset.UnixEpoch, Pid = 1, ObjectKind = "vm", ObjectId = 0, Command = KvmIoctls.KVM_CREATE_VCPU, Argument = 9999, Result = -22 },
        ];
        foreach (var e in events)
        {
            using var json = JsonDocument.Parse(TraceFormatter.FormatJson(e));
            foreach (var p in json.RootElement.EnumerateObject())
                Assert.Contains($"`{p.Name}`", doc);
        }
    }
}
