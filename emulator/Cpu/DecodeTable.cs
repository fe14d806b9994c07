namespace Kvmfs.Emulator.Cpu;

/// <summary>
/// One A64 encoding: the bit pattern as written in the Arm ARM (32 characters of 0, 1 or x,
/// bit 31 first; spaces and underscores are ignored) and the handler that executes it.
/// </summary>
public readonly unsafe struct Encoding
{
    public readonly string Name;
    public readonly uint Mask, Value;
    public readonly delegate* managed<ArmCpu, uint, void> Handler;

    public Encoding(string name, string pattern, delegate* managed<ArmCpu, uint, void> handler)
    {
        Name = name;
        Handler = handler;
        int bit = 31;
        uint mask = 0, value = 0;
        foreach (char c in pattern)
        {
            if (c is ' ' or '_') continue;
            if (bit < 0) throw new ArgumentException($"pattern of {name} is longer than 32 bits");
            if (c == '1') { mask |= 1u << bit; value |= 1u << bit; }
            else if (c == '0') mask |= 1u << bit;
            else if (c != 'x') throw new ArgumentException($"pattern of {name}: bad character '{c}'");
            bit--;
        }
        if (bit != -1) throw new ArgumentException($"pattern of {name} is shorter than 32 bits");
        Mask = mask;
        Value = value;
    }

    public bool Matches(uint insn) => (insn & Mask) == Value;
}

/// <summary>
/// The A64 decode table: a list of encodings, looked up through 2048 buckets keyed by bits 31:21.
/// Within a bucket the most specific pattern (most fixed bits) wins; between equally specific
/// patterns, the first added. A word no pattern matches decodes to <see cref="Handlers.Undefined"/>.
/// Lookups happen once per instruction when a block is decoded, never per execution.
/// </summary>
public sealed unsafe class DecodeTable
{
    readonly List<Encoding> encodings = new();
    Encoding[][]? buckets;

    public IReadOnlyList<Encoding> Encodings => encodings;

    /// <summary>Adds one encoding. Call only while building (before the first lookup).</summary>
    public void Add(string name, string pattern, delegate* managed<ArmCpu, uint, void> handler)
    {
        if (buckets != null) throw new InvalidOperationException("decode table already frozen");
        encodings.Add(new Encoding(name, pattern, handler));
    }

    void Freeze()
    {
        var lists = new List<Encoding>[2048];
        for (int i = 0; i < lists.Length; i++) lists[i] = new List<Encoding>();
        foreach (var e in encodings)
        {
            uint topMask = e.Mask >> 21, topValue = e.Value >> 21;
            for (uint key = 0; key < 2048; key++)
                if ((key & topMask) == topValue) lists[key].Add(e);
        }
        var b = new Encoding[2048][];
        for (int i = 0; i < 2048; i++)
        {
            // Stable sort: more fixed bits first.
            var l = lists[i];
            var ordered = new Encoding[l.Count];
            int n = 0;
            for (int bits = 32; bits >= 0; bits--)
                foreach (var e in l)
                    if (System.Numerics.BitOperations.PopCount(e.Mask) == bits) ordered[n++] = e;
            b[i] = ordered;
        }
        buckets = b;
    }

    /// <summary>The encoding that decodes this word, or null when unallocated.</summary>
    public Encoding? Find(uint insn)
    {
        if (buckets == null) lock (encodings) { if (buckets == null) Freeze(); }
        foreach (var e in buckets![insn >> 21])
            if (e.Matches(insn)) return e;
        return null;
    }

    public delegate* managed<ArmCpu, uint, void> Lookup(uint insn)
    {
        var e = Find(insn);
        return e.HasValue ? e.Value.Handler : &Handlers.Undefined;
    }
}
