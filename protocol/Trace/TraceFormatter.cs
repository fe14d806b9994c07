using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Kvmfs.Protocol.Trace;

/// <summary>
/// Renders <see cref="IoctlTraceEvent"/>s in the two stable trace formats documented in
/// docs/trace-format.md: one strace-style text line, or one JSON object per line.
/// </summary>
public static class TraceFormatter
{
    /// <summary>
    /// "12:00:01.123456 [4242] KVM_CREATE_VCPU(vm 1, 0) = 7": UTC time of day with microseconds,
    /// the VMM's pid in brackets, then <see cref="FormatCall"/>. No trailing newline.
    /// </summary>
    public static string FormatText(IoctlTraceEvent e)
    {
        var sb = new StringBuilder(128);
        AppendPrefix(sb, e);
        AppendCall(sb, IoctlDecoder.Decode(e));
        return sb.ToString();
    }

    /// <summary>The call alone: "KVM_CHECK_EXTENSION(kvm, KVM_CAP_ARM_VM_IPA_SIZE) = 40".</summary>
    public static string FormatCall(IoctlTraceEvent e)
    {
        var sb = new StringBuilder(128);
        AppendCall(sb, IoctlDecoder.Decode(e));
        return sb.ToString();
    }

    public static void AppendPrefix(StringBuilder sb, IoctlTraceEvent e)
    {
        sb.Append(e.Time.UtcDateTime.ToString("HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture));
        sb.Append(" [").Append(e.Pid).Append("] ");
    }

    public static void AppendCall(StringBuilder sb, DecodedCall call)
    {
        sb.Append(call.Name).Append('(').Append(call.Target);
        foreach (var arg in call.Args)
        {
            sb.Append(", ");
            arg.WriteText(sb);
        }
        sb.Append(") = ");
        if (call.IsError)
            sb.Append("-1 ").Append(ErrnoNames.Name(call.Errno)).Append(" (").Append(ErrnoNames.Message(call.Errno)).Append(')');
        else
            sb.Append(call.Result);
        if (call.Out is not null)
        {
            sb.Append(" -> ");
            call.Out.WriteText(sb);
        }
    }

    /// <summary>The event as one line of JSON (no trailing newline); field names are stable.</summary>
    public static string FormatJson(IoctlTraceEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
            WriteJson(w, e);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteJson(Utf8JsonWriter w, IoctlTraceEvent e)
    {
        var call = IoctlDecoder.Decode(e);
        w.WriteStartObject();
        w.WriteString("time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteNumber("pid", e.Pid);
        w.WriteString("object", e.ObjectKind);
        w.WriteNumber("id", e.ObjectId);
        w.WriteString("ioctl", call.Name);
        w.WriteBoolean("known", call.Known);
        w.WriteString("cmd", "0x" + e.Command.ToString("x8"));
        w.WriteString("arg", "0x" + e.Argument.ToString("x"));
        w.WritePropertyName("args");
        w.WriteStartArray();
        foreach (var arg in call.Args) arg.WriteJson(w);
        w.WriteEndArray();
        w.WriteNumber("result", call.IsError ? -1 : call.Result);
        if (call.IsError)
        {
            w.WriteString("errno", ErrnoNames.Name(call.Errno));
            w.WriteNumber("errno_value", call.Errno);
        }
        if (call.Out is not null)
        {
            w.WritePropertyName("out");
            call.Out.WriteJson(w);
        }
        w.WriteNumber("duration_us", e.DurationMicros);
        w.WriteEndObject();
    }
}
