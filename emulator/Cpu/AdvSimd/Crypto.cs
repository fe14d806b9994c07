using static Kvmfs.Emulator.Cpu.AdvSimd.Simd;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// The AES half of the Cryptographic Extension (AESE/AESD/AESMC/AESIMC) and PMULL/PMULL2 on 64-bit
/// elements, i.e. what ID_AA64ISAR0_EL1.AES = 0b0010 advertises. The AES state is 16 bytes in
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
    public static void Aes(Cpu cpu, uint insn) => Guard.Run(cpu, insn, &AesCore);

    internal static bool AesCore(CpuState* state, uint insn)
    {
        uint opc = (insn >> 12) & 31;
        if (opc < 0b00100 || opc > 0b00111) return false;
        CpuState* s = state;
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
}
