namespace Kvmfs.Emulator.Cpu;

/// <summary>
/// The A64 decode table: one line per encoding (pattern as in the Arm ARM, bit 31 first).
/// Engineer-owned parts are partial methods implemented in other files:
/// <see cref="AddFloatingPoint"/> in emulator/Fpu, <see cref="AddAdvSimd"/> in emulator/Cpu/AdvSimd.
/// </summary>
public static unsafe partial class A64Table
{
    static DecodeTable? defaultTable;

    /// <summary>The complete table, built once.</summary>
    public static DecodeTable Default => defaultTable ??= Build();

    public static DecodeTable Build()
    {
        var t = new DecodeTable();
        AddIntegerImmediate(t);
        AddBranchesAndSystem(t);
        AddFloatingPoint(t);
        AddAdvSimd(t);
        return t;
    }

    /// <summary>Scalar floating point data processing (engineer "fp", emulator/Fpu).</summary>
    static partial void AddFloatingPoint(DecodeTable table);
    /// <summary>AdvSIMD data processing (engineer "fp", emulator/Cpu/AdvSimd).</summary>
    static partial void AddAdvSimd(DecodeTable table);

    static void AddIntegerImmediate(DecodeTable t)
    {
        t.Add("ADR", "0xx10000xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.Adr);
        t.Add("ADRP", "1xx10000xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.Adrp);
        t.Add("ADD/ADDS/SUB/SUBS (immediate)", "xxx100010xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.AddSubImmediate);
        t.Add("MOVN/MOVZ/MOVK", "xxx100101xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.MoveWide);
        t.Add("AND/ORR/EOR/ANDS (immediate)", "xxx100100xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LogicalImmediate);
        t.Add("AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register)", "xxx01010xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LogicalShiftedRegister);
        t.Add("ADD/SUB (shifted register)", "xxx01011xx0xxxxxxxxxxxxxxxxxxxxx", &Handlers.AddSubShiftedRegister);
        t.Add("ADD/SUB (extended register)", "xxx01011001xxxxxxxxxxxxxxxxxxxxx", &Handlers.AddSubExtendedRegister);
        t.Add("CSEL/CSINC/CSINV/CSNEG", "xxx11010100xxxxxxxxxxxxxxxxxxxxx", &Handlers.ConditionalSelect);
        t.Add("SBFM/BFM/UBFM", "xxx100110xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.Bitfield);
        t.Add("EXTR", "xxx100111xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.Extract);
        t.Add("ADC/ADCS/SBC/SBCS", "xxx11010000xxxxx000000xxxxxxxxxx", &Handlers.AddSubCarry);
        t.Add("CCMN/CCMP", "xx111010010xxxxxxxxxx0xxxxx0xxxx", &Handlers.ConditionalCompare);
        t.Add("data processing (2 source)", "x0011010110xxxxxxxxxxxxxxxxxxxxx", &Handlers.DataProcessing2Source);
        t.Add("data processing (1 source)", "x1011010110xxxxxxxxxxxxxxxxxxxxx", &Handlers.DataProcessing1Source);
        t.Add("data processing (3 source)", "x0011011xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.DataProcessing3Source);
        t.Add("LDR (literal, GPR), PRFM", "xx011000xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadLiteral);
        t.Add("LDR/STR (register offset, GPR)", "xx111000xx1xxxxxxxxx10xxxxxxxxxx", &Handlers.LoadStoreRegisterOffset);
        t.Add("load/store exclusive, LDAR/STLR", "xx001000xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStoreExclusive);
        t.Add("LDR/STR (unsigned immediate, SIMD&FP)", "xx111101xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.FpLoadStoreRegister);
        t.Add("LDUR/STUR, LDR/STR (pre/post-index, register offset, SIMD&FP)", "xx111100xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.FpLoadStoreRegister);
        t.Add("LDP/STP/LDNP/STNP (SIMD&FP)", "xx10110xxxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.FpLoadStorePair);
        t.Add("LDR (literal, SIMD&FP)", "xx011100xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.FpLoadLiteral);
        t.Add("LDNP/STNP (GPR)", "xx1010000xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStorePair);
        t.Add("LD1-LD4/ST1-ST4 (multiple structures)", "0x0011000x000000xxxxxxxxxxxxxxxx", &Handlers.LoadStoreMultipleStructures);
        t.Add("LD1-LD4/ST1-ST4 (multiple structures, post-index)", "0x0011001x0xxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStoreMultipleStructures);
        t.Add("LD1-LD4/ST1-ST4 (single structure), LD1R-LD4R", "0x0011010xx00000xxxxxxxxxxxxxxxx", &Handlers.LoadStoreSingleStructure);
        t.Add("LD1-LD4/ST1-ST4 (single structure, post-index), LD1R-LD4R", "0x0011011xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStoreSingleStructure);
        t.Add("CBZ/CBNZ", "x011010xxxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.CompareBranch);
        t.Add("TBZ/TBNZ", "x011011xxxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.TestBranch);
        t.Add("LDR/STR (unsigned immediate, GPR)", "xx111001xxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStoreRegister);
        t.Add("LDUR/STUR, LDR/STR (pre/post-index, GPR)", "xx111000xx0xxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStoreRegister);
        t.Add("LDP/STP/LDPSW (GPR)", "xx1010001xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStorePair);
        t.Add("LDP/STP/LDPSW (GPR, pre-index)", "xx1010011xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStorePair);
        t.Add("LDP/STP (GPR, signed offset)", "xx1010010xxxxxxxxxxxxxxxxxxxxxxx", &Handlers.LoadStorePair);
    }

    static void AddBranchesAndSystem(DecodeTable t)
    {
        t.Add("B", "000101xxxxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.B);
        t.Add("BL", "100101xxxxxxxxxxxxxxxxxxxxxxxxxx", &Handlers.Bl);
        t.Add("B.cond", "01010100xxxxxxxxxxxxxxxxxxx0xxxx", &Handlers.BCond);
        t.Add("BR/BLR/RET", "1101011000x11111000000xxxxx00000", &Handlers.BranchRegister);
        t.Add("RET", "1101011001011111000000xxxxx00000", &Handlers.BranchRegister);
        t.Add("ERET", "11010110100111110000001111100000", &Handlers.Eret);
        t.Add("SVC", "11010100000xxxxxxxxxxxxxxxx00001", &Handlers.Svc);
        t.Add("HVC", "11010100000xxxxxxxxxxxxxxxx00010", &Handlers.Hvc);
        t.Add("SMC", "11010100000xxxxxxxxxxxxxxxx00011", &Handlers.Smc);
        t.Add("HLT (no halting debug: UNDEFINED)", "11010100010xxxxxxxxxxxxxxxx00000", &Handlers.Undefined);
        t.Add("BRK", "11010100001xxxxxxxxxxxxxxxx00000", &Handlers.Brk);
        t.Add("hint (NOP, YIELD, WFE, WFI, SEV, ...)", "11010101000000110010xxxxxxx11111", &Handlers.Hint);
        t.Add("CLREX", "11010101000000110011xxxx01011111", &Handlers.Clrex);
        t.Add("DSB", "11010101000000110011xxxx10011111", &Handlers.Barrier);
        t.Add("DMB", "11010101000000110011xxxx10111111", &Handlers.Barrier);
        t.Add("ISB", "11010101000000110011xxxx11011111", &Handlers.Isb);
        t.Add("MSR (immediate)", "1101010100000xxx0100xxxxxxx11111", &Handlers.MsrImmediate);
        t.Add("SYS", "1101010100001xxxxxxxxxxxxxxxxxxx", &Handlers.Sys);
        t.Add("MSR (register)", "110101010001xxxxxxxxxxxxxxxxxxxx", &Handlers.Msr);
        t.Add("MRS", "110101010011xxxxxxxxxxxxxxxxxxxx", &Handlers.Mrs);
    }
}
