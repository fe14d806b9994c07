namespace Kvmfs.Emulator.Cpu;

/// <summary>LD1–LD4/ST1–ST4 (multiple structures), with and without post-index.</summary>
public static unsafe partial class Handlers
{
    public static void LoadStoreMultipleStructures(ArmCpu c, uint i)
    {
        bool q = ((i >> 30) & 1) != 0, load = ((i >> 22) & 1) != 0, post = ((i >> 23) & 1) != 0;
        uint opcode = (i >> 12) & 15, size = (i >> 10) & 3, rt = i & 31, rn = (i >> 5) & 31, rm = (i >> 16) & 31;
        int rpt, selem;
        switch (opcode)
        {
            case 0b0000: rpt = 1; selem = 4; break;
            case 0b0010: rpt = 4; selem = 1; break;
            case 0b0100: rpt = 1; selem = 3; break;
            case 0b0110: rpt = 3; selem = 1; break;
            case 0b0111: rpt = 1; selem = 1; break;
            case 0b1000: rpt = 1; selem = 2; break;
            case 0b1010: rpt = 2; selem = 1; break;
            default: c.RaiseUndefined(); return;
        }
        if (size == 3 && !q && selem > 1) { c.RaiseUndefined(); return; }
        if (!post && rm != 0) { c.RaiseUndefined(); return; }
        if (!c.CheckFpEnabled()) return;
        int ebytes = 1 << (int)size;
        int elements = (q ? 16 : 8) / ebytes;
        int total = rpt * selem * elements * ebytes; // at most 64
        ulong address = c.XSp(rn);
        byte* buffer = stackalloc byte[64];
        if (load)
        {
            for (int k = 0; k < total; k++)
                if (!c.Read8(address + (ulong)k, out buffer[k])) return;
        }
        else if (!c.Probe(address, Memory.AccessType.Write) || !c.Probe(address + (ulong)total - 1, Memory.AccessType.Write)) return;
        int offset = 0;
        for (int r = 0; r < rpt; r++)
            for (int e = 0; e < elements; e++)
                for (int s = 0; s < selem; s++)
                {
                    uint tt = (uint)((rt + r + s) % 32);
                    byte* v = c.V(tt);
                    for (int b = 0; b < ebytes; b++)
                    {
                        if (load) v[e * ebytes + b] = buffer[offset + b];
                        else buffer[offset + b] = v[e * ebytes + b];
                    }
                    offset += ebytes;
                }
        if (load && !q)
            for (int r = 0; r < rpt * selem; r++) ((ulong*)c.V((uint)((rt + r) % 32)))[1] = 0;
        if (!load)
            for (int k = 0; k < total; k++)
                if (!c.Write8(address + (ulong)k, buffer[k])) return;
        if (post) c.SetXSp(rn, address + (rm == 31 ? (ulong)total : c.X(rm)));
    }
}

/// <summary>LD1–LD4/ST1–ST4 (single structure: one lane) and LD1R–LD4R (load and replicate), with and without post-index.</summary>
public static unsafe partial class Handlers
{
    public static void LoadStoreSingleStructure(ArmCpu c, uint i)
    {
        bool q = ((i >> 30) & 1) != 0, load = ((i >> 22) & 1) != 0, post = ((i >> 23) & 1) != 0;
        uint opcode = (i >> 13) & 7, s = (i >> 12) & 1, size = (i >> 10) & 3;
        uint rt = i & 31, rn = (i >> 5) & 31, rm = (i >> 16) & 31;
        int selem = (int)((((opcode & 1) << 1) | ((i >> 21) & 1)) + 1);
        int scale = (int)(opcode >> 1);
        bool replicate = false;
        int index = 0;
        switch (scale)
        {
            case 3:
                // Replicate: only loads, S must be 0; the element size is the size field.
                if (!load || s != 0) { c.RaiseUndefined(); return; }
                scale = (int)size;
                replicate = true;
                break;
            case 0:
                index = (int)((q ? 8u : 0) | s << 2 | size);
                break;
            case 1:
                if ((size & 1) != 0) { c.RaiseUndefined(); return; }
                index = (int)((q ? 4u : 0) | s << 1 | (size >> 1));
                break;
            default:
                if ((size & 2) != 0) { c.RaiseUndefined(); return; }
                if ((size & 1) == 0) index = (int)((q ? 2u : 0) | s);
                else
                {
                    if (s != 0) { c.RaiseUndefined(); return; }
                    index = q ? 1 : 0;
                    scale = 3;
                }
                break;
        }
        if (!post && rm != 0) { c.RaiseUndefined(); return; }
        if (!c.CheckFpEnabled()) return;
        int ebytes = 1 << scale;
        int total = selem * ebytes; // at most 32
        ulong address = c.XSp(rn);
        ulong* values = stackalloc ulong[4];
        if (load)
        {
            // Read every element before writing any register, so a fault leaves the registers unchanged.
            for (int k = 0; k < selem; k++)
                if (!ReadSized(c, address + (ulong)(k * ebytes), (uint)scale, out values[k])) return;
            for (int k = 0; k < selem; k++)
            {
                byte* v = c.V((uint)((rt + k) % 32));
                if (replicate)
                {
                    int lanes = (q ? 16 : 8) / ebytes;
                    for (int e = 0; e < lanes; e++) WriteLane(v, e, ebytes, values[k]);
                    if (!q) ((ulong*)v)[1] = 0;
                }
                else WriteLane(v, index, ebytes, values[k]);
            }
        }
        else
        {
            if (!c.Probe(address, Memory.AccessType.Write) || !c.Probe(address + (ulong)total - 1, Memory.AccessType.Write)) return;
            for (int k = 0; k < selem; k++)
            {
                byte* v = c.V((uint)((rt + k) % 32));
                if (!WriteSized(c, address + (ulong)(k * ebytes), (uint)scale, ReadLane(v, index, ebytes))) return;
            }
        }
        if (post) c.SetXSp(rn, address + (rm == 31 ? (ulong)total : c.X(rm)));
    }

    static void WriteLane(byte* v, int index, int ebytes, ulong value)
    {
        switch (ebytes)
        {
            case 1: v[index] = (byte)value; break;
            case 2: ((ushort*)v)[index] = (ushort)value; break;
            case 4: ((uint*)v)[index] = (uint)value; break;
            default: ((ulong*)v)[index] = value; break;
        }
    }

    static ulong ReadLane(byte* v, int index, int ebytes) => ebytes switch
    {
        1 => v[index],
        2 => ((ushort*)v)[index],
        4 => ((uint*)v)[index],
        _ => ((ulong*)v)[index],
    };
}
