using System.Text;
using Kvmfs.Protocol.Trace;
using Kvmfs.Fuse.Native;

namespace Kvmfs.Fuse.Trace;

/// <summary>
/// A plain one-line rendering of a trace event, used until the shared trace formatter
/// (protocol/Trace, the format of `kvmfs exec --trace`) is available to the file system.
/// </summary>
public static class TraceLine
{
    public static string Format(IoctlTraceEvent e)
    {
        var sb = new StringBuilder();
        sb.Append(e.Time.UtcDateTime.ToString("HH:mm:ss.ffffff"));
        sb.Append($" pid {e.Pid} {e.ObjectKind}#{e.ObjectId} {IoctlBits.Describe(e.Command)}");
        sb.Append(IoctlBits.Dir(e.Command) == 0 ? $" arg {e.Argument}" : $" arg 0x{e.Argument:x}");
        if (e.DataIn.Length > 0) sb.Append(" in ").Append(Convert.ToHexString(e.DataIn[..Math.Min(32, e.DataIn.Length)]).ToLowerInvariant());
        sb.Append(" = ").Append(e.Result < 0 ? $"-{-e.Result} (errno)" : e.Result.ToString());
        if (e.DataOut.Length > 0) sb.Append(" out ").Append(Convert.ToHexString(e.DataOut[..Math.Min(32, e.DataOut.Length)]).ToLowerInvariant());
        sb.Append($" ({e.DurationMicros} us)\n");
        return sb.ToString();
    }
}
