using System.Text;
using System.Text.Json;

namespace Kvmfs.Protocol.Trace;

/// <summary>
/// A decoded ioctl argument or result, one tree rendered two ways: strace-like text and JSON.
/// Numbers shown in hex are JSON strings ("0x80000000") so 64-bit values survive any parser.
/// </summary>
public abstract record TraceNode
{
    public abstract void WriteText(StringBuilder sb);
    public abstract void WriteJson(Utf8JsonWriter w);

    public string ToText()
    {
        var sb = new StringBuilder();
        WriteText(sb);
        return sb.ToString();
    }

    public static TraceNode Dec(long value) => new NumberNode(value);
    public static TraceNode Dec(ulong value) => value <= long.MaxValue ? new NumberNode((long)value) : Hex(value);
    public static TraceNode Hex(ulong value) => new HexNode(value);
    public static TraceNode Sym(string text) => new SymbolNode(text);
    public static TraceNode Sym(string? name, ulong fallback) => name is null ? Dec(fallback) : new SymbolNode(name);
    public static TraceNode Bytes(ReadOnlySpan<byte> bytes) => new BytesNode(bytes.ToArray());
    public static TraceNode Note(TraceNode value, string note) => new NotedNode(value, note);
    public static ObjectNode Obj() => new();
    public static ListNode List(IEnumerable<TraceNode> items, int more = 0) => new([.. items], more);
}

/// <summary>A decimal number.</summary>
public sealed record NumberNode(long Value) : TraceNode
{
    public override void WriteText(StringBuilder sb) => sb.Append(Value);
    public override void WriteJson(Utf8JsonWriter w) => w.WriteNumberValue(Value);
}

/// <summary>A number best read in hex (addresses, ids, masks).</summary>
public sealed record HexNode(ulong Value) : TraceNode
{
    public override void WriteText(StringBuilder sb) => sb.Append("0x").Append(Value.ToString("x"));
    public override void WriteJson(Utf8JsonWriter w) => w.WriteStringValue("0x" + Value.ToString("x"));
}

/// <summary>A symbolic name (KVM_CAP_..., KVM_EXIT_..., flag sets joined with '|').</summary>
public sealed record SymbolNode(string Text) : TraceNode
{
    public override void WriteText(StringBuilder sb) => sb.Append(Text);
    public override void WriteJson(Utf8JsonWriter w) => w.WriteStringValue(Text);
}

/// <summary>Raw bytes: "41 00 00 00" in text, "41000000" in JSON.</summary>
public sealed record BytesNode(byte[] Data) : TraceNode
{
    public override void WriteText(StringBuilder sb)
    {
        for (int i = 0; i < Data.Length; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(Data[i].ToString("x2"));
        }
    }

    public override void WriteJson(Utf8JsonWriter w) => w.WriteStringValue(Convert.ToHexString(Data).ToLowerInvariant());
}

/// <summary>A value with a readable note: "0x603000000013c005 MPIDR_EL1" in text; in JSON the value,
/// and the note under "&lt;key&gt;_name" beside it.</summary>
public sealed record NotedNode(TraceNode Value, string Annotation) : TraceNode
{
    public override void WriteText(StringBuilder sb)
    {
        Value.WriteText(sb);
        sb.Append(' ').Append(Annotation);
    }

    public override void WriteJson(Utf8JsonWriter w) => Value.WriteJson(w);
}

/// <summary>[a, b, c, ...] (with "..." when <paramref name="More"/> items were left out).</summary>
public sealed record ListNode(List<TraceNode> Items, int More) : TraceNode
{
    public override void WriteText(StringBuilder sb)
    {
        sb.Append('[');
        for (int i = 0; i < Items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            Items[i].WriteText(sb);
        }
        if (More > 0) sb.Append(Items.Count > 0 ? ", " : "").Append("...");
        sb.Append(']');
    }

    public override void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartArray();
        foreach (var item in Items) item.WriteJson(w);
        w.WriteEndArray();
    }
}

/// <summary>{key=value, ...}, fields in order.</summary>
public sealed record ObjectNode : TraceNode
{
    public List<(string Key, TraceNode Value)> Fields { get; } = [];

    public ObjectNode Add(string key, TraceNode value)
    {
        Fields.Add((key, value));
        return this;
    }

    public TraceNode? this[string key] => Fields.FirstOrDefault(f => f.Key == key).Value;

    public override void WriteText(StringBuilder sb)
    {
        sb.Append('{');
        for (int i = 0; i < Fields.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Fields[i].Key).Append('=');
            Fields[i].Value.WriteText(sb);
        }
        sb.Append('}');
    }

    public override void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        foreach (var (key, value) in Fields)
        {
            w.WritePropertyName(key);
            value.WriteJson(w);
            if (value is NotedNode noted) w.WriteString(key + "_name", noted.Annotation);
        }
        w.WriteEndObject();
    }
}
