using static Kvmfs.Emulator.Cpu.AdvSimd.Simd;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// The ARMv8.0 Cryptographic Extension: AESE/AESD/AESMC/AESIMC and PMULL/PMULL2 on 64-bit elements
/// (ID_AA64ISAR0_EL1.AES = 0b0010), SHA1C/P/M/H/SU0/SU1 (SHA1 = 0b0001) and SHA256H/H2/SU0/SU1
/// (SHA2 = 0b0001). The AES state is 16 bytes in
/// column-major order (byte 4*column + row), as the FIPS-197 state maps onto a vector register.
/// </summary>
internal static unsafe class Crypto
{
    static readonly byte[] SBox = new byte[256], InvSBox = new byte[256];

    static Crypto()
    {
        // The S-box from its definition: multiplicative inverse in GF(2^8) followed by the affine map.
        for (int x = 0; x < 256; x++)
        {
            byte inv = 0;
            if (x != 0)
                for (int y = 1; y < 256; y++)
                    if (GfMul((byte)x, (byte)y) == 1) { inv = (byte)y; break; }
            int s = inv ^ Rotl(inv, 1) ^ Rotl(inv, 2) ^ Rotl(inv, 3) ^ Rotl(inv, 4) ^ 0x63;
            SBox[x] = (byte)s;
            InvSBox[s] = (byte)x;
        }
    }

    static int Rotl(byte v, int n) => ((v << n) | (v >> (8 - n))) & 0xFF;

    static byte GfMul(byte a, byte b)
    {
        int r = 0, x = a;
        for (int i = 0; i < 8; i++)
        {
            if (((b >> i) & 1) != 0) r ^= x;
            x <<= 1;
            if ((x & 0x100) != 0) x ^= 0x11B;
        }
        return (byte)r;
    }

    // 0100 1110 0010 1000 0 opcode(4) 10 Rn Rd: AESE 0100, AESD 0101, AESMC 0110, AESIMC 0111 (size = 00)
    public static void Aes(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &AesCore);

    internal static bool AesCore(CpuState* s, uint insn)
    {
        uint opc = (insn >> 12) & 31;
        if (opc < 0b00100 || opc > 0b00111) return false;
        V128 vn = ReadV(s, Rn(insn)), vd = ReadV(s, Rd(insn)), r = default;
        switch (opc)
        {
            case 0b00100 or 0b00101:
            {
                bool decrypt = opc == 0b00101;
                V128 t = new V128 { Lo = vd.Lo ^ vn.Lo, Hi = vd.Hi ^ vn.Hi };
                for (int col = 0; col < 4; col++)
                    for (int row = 0; row < 4; row++)
                    {
                        int srcCol = decrypt ? (col - row + 4) & 3 : (col + row) & 3;
                        byte b = t.Byte(srcCol * 4 + row);
                        r.Set(col * 4 + row, 0, decrypt ? InvSBox[b] : SBox[b]);
                    }
                break;
            }
            default:
            {
                bool inverse = opc == 0b00111;
                for (int col = 0; col < 4; col++)
                {
                    byte a0 = vn.Byte(col * 4), a1 = vn.Byte(col * 4 + 1), a2 = vn.Byte(col * 4 + 2), a3 = vn.Byte(col * 4 + 3);
                    if (!inverse)
                    {
                        r.Set(col * 4 + 0, 0, (ulong)(GfMul(a0, 2) ^ GfMul(a1, 3) ^ a2 ^ a3));
                        r.Set(col * 4 + 1, 0, (ulong)(a0 ^ GfMul(a1, 2) ^ GfMul(a2, 3) ^ a3));
                        r.Set(col * 4 + 2, 0, (ulong)(a0 ^ a1 ^ GfMul(a2, 2) ^ GfMul(a3, 3)));
                        r.Set(col * 4 + 3, 0, (ulong)(GfMul(a0, 3) ^ a1 ^ a2 ^ GfMul(a3, 2)));
                    }
                    else
                    {
                        r.Set(col * 4 + 0, 0, (ulong)(GfMul(a0, 14) ^ GfMul(a1, 11) ^ GfMul(a2, 13) ^ GfMul(a3, 9)));
                        r.Set(col * 4 + 1, 0, (ulong)(GfMul(a0, 9) ^ GfMul(a1, 14) ^ GfMul(a2, 11) ^ GfMul(a3, 13)));
                        r.Set(col * 4 + 2, 0, (ulong)(GfMul(a0, 13) ^ GfMul(a1, 9) ^ GfMul(a2, 14) ^ GfMul(a3, 11)));
                        r.Set(col * 4 + 3, 0, (ulong)(GfMul(a0, 11) ^ GfMul(a1, 13) ^ GfMul(a2, 9) ^ GfMul(a3, 14)));
                    }
                }
                break;
            }
        }
        WriteV(s, Rd(insn), r, true);
        return true;
    }

    /// <summary>PMULL/PMULL2 Vd.1Q, Vn.1D/2D, Vm.1D/2D: 64x64 carry-less multiply (called from three-different).</summary>
    public static void PolyMul64(CpuState* s, uint insn)
    {
        bool upper = ((insn >> 30) & 1) != 0;
        ulong a = s->V[2 * Rn(insn) + (upper ? 1 : 0)], b = s->V[2 * Rm(insn) + (upper ? 1 : 0)];
        ulong lo = 0, hi = 0;
        for (int i = 0; i < 64; i++)
            if (((b >> i) & 1) != 0)
            {
                lo ^= a << i;
                if (i != 0) hi ^= a >> (64 - i);
            }
        WriteV(s, Rd(insn), new V128 { Lo = lo, Hi = hi }, true);
    }

    static uint Ror(uint x, int n) => (x >> n) | (x << (32 - n));
    static uint Rol(uint x, int n) => (x << n) | (x >> (32 - n));
    static uint Choose(uint x, uint y, uint z) => ((y ^ z) & x) ^ z;
    static uint Parity(uint x, uint y, uint z) => x ^ y ^ z;
    static uint Majority(uint x, uint y, uint z) => (x & y) | ((x | y) & z);

    static void ToWords(in V128 v, Span<uint> w)
    {
        w[0] = (uint)v.Lo; w[1] = (uint)(v.Lo >> 32); w[2] = (uint)v.Hi; w[3] = (uint)(v.Hi >> 32);
    }

    static V128 FromWords(ReadOnlySpan<uint> w) =>
        new V128 { Lo = w[0] | ((ulong)w[1] << 32), Hi = w[2] | ((ulong)w[3] << 32) };

    // 0101 1110 000 Rm 0 opcode(3) 00 Rn Rd: SHA1C/P/M, SHA1SU0, SHA256H/H2, SHA256SU1
    internal static bool ShaThreeRegCore(CpuState* state, uint insn)
    {
        uint opc = (insn >> 12) & 7;
        if (opc == 7) return false;
        Span<uint> x = stackalloc uint[4], y = stackalloc uint[4], w = stackalloc uint[4], r = stackalloc uint[4];
        ToWords(ReadV(state, Rd(insn)), x);
        ToWords(ReadV(state, Rn(insn)), y);
        ToWords(ReadV(state, Rm(insn)), w);
        switch (opc)
        {
            case 0 or 1 or 2:
            {
                // Qd holds the hash words a..d, Sn holds e, Vm four schedule words.
                uint e = y[0];
                for (int i = 0; i < 4; i++)
                {
                    uint f = opc == 0 ? Choose(x[1], x[2], x[3]) : opc == 1 ? Parity(x[1], x[2], x[3]) : Majority(x[1], x[2], x[3]);
                    e = e + Rol(x[0], 5) + f + w[i];
                    x[1] = Rol(x[1], 30);
                    // Rotate the 160-bit value e:x left by 32 bits.
                    uint top = x[3];
                    x[3] = x[2]; x[2] = x[1]; x[1] = x[0]; x[0] = e;
                    e = top;
                }
                x.CopyTo(r);
                break;
            }
            case 3:
                // SHA1SU0: (Vn<63:0> : Vd<127:64>) ^ Vd ^ Vm
                r[0] = x[2] ^ x[0] ^ w[0]; r[1] = x[3] ^ x[1] ^ w[1]; r[2] = y[0] ^ x[2] ^ w[2]; r[3] = y[1] ^ x[3] ^ w[3];
                break;
            case 4 or 5:
            {
                Span<uint> hx = stackalloc uint[4], hy = stackalloc uint[4];
                if (opc == 4) { x.CopyTo(hx); y.CopyTo(hy); } else { y.CopyTo(hx); x.CopyTo(hy); }
                for (int i = 0; i < 4; i++)
                {
                    uint chs = Choose(hy[0], hy[1], hy[2]);
                    uint maj = Majority(hx[0], hx[1], hx[2]);
                    uint t = hy[3] + (Ror(hy[0], 6) ^ Ror(hy[0], 11) ^ Ror(hy[0], 25)) + chs + w[i];
                    hx[3] = t + hx[3];
                    hy[3] = t + (Ror(hx[0], 2) ^ Ror(hx[0], 13) ^ Ror(hx[0], 22)) + maj;
                    // Rotate the 256-bit value hy:hx left by 32 bits.
                    uint xTop = hx[3], yTop = hy[3];
                    hx[3] = hx[2]; hx[2] = hx[1]; hx[1] = hx[0]; hx[0] = yTop;
                    hy[3] = hy[2]; hy[2] = hy[1]; hy[1] = hy[0]; hy[0] = xTop;
                }
                (opc == 4 ? hx : hy).CopyTo(r);
                break;
            }
            default:
            {
                // SHA256SU1
                Span<uint> t0 = stackalloc uint[4];
                t0[0] = y[1]; t0[1] = y[2]; t0[2] = y[3]; t0[3] = w[0];
                for (int i = 0; i < 4; i++)
                {
                    uint elt = i < 2 ? w[i + 2] : r[i - 2];
                    elt = Ror(elt, 17) ^ Ror(elt, 19) ^ (elt >> 10);
                    r[i] = elt + x[i] + t0[i];
                }
                break;
            }
        }
        WriteV(state, Rd(insn), FromWords(r), true);
        return true;
    }

    // 0101 1110 0010 1000 0 opcode(4) 10 Rn Rd: SHA1H 0000, SHA1SU1 0001, SHA256SU0 0010
    internal static bool ShaTwoRegCore(CpuState* state, uint insn)
    {
        uint opc = (insn >> 12) & 31;
        if (opc > 2) return false;
        Span<uint> x = stackalloc uint[4], y = stackalloc uint[4], r = stackalloc uint[4];
        ToWords(ReadV(state, Rd(insn)), x);
        ToWords(ReadV(state, Rn(insn)), y);
        switch (opc)
        {
            case 0:
                WriteScalar(state, Rd(insn), Rol(y[0], 30));
                return true;
            case 1:
            {
                uint t0 = x[0] ^ y[1], t1 = x[1] ^ y[2], t2 = x[2] ^ y[3], t3 = x[3];
                r[0] = Rol(t0, 1); r[1] = Rol(t1, 1); r[2] = Rol(t2, 1); r[3] = Rol(t3, 1) ^ Rol(t0, 2);
                break;
            }
            default:
            {
                Span<uint> t = stackalloc uint[4];
                t[0] = x[1]; t[1] = x[2]; t[2] = x[3]; t[3] = y[0];
                for (int i = 0; i < 4; i++) r[i] = (Ror(t[i], 7) ^ Ror(t[i], 18) ^ (t[i] >> 3)) + x[i];
                break;
            }
        }
        WriteV(state, Rd(insn), FromWords(r), true);
        return true;
    }

    public static void ShaThreeReg(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ShaThreeRegCore);
    public static void ShaTwoReg(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ShaTwoRegCore);
}
