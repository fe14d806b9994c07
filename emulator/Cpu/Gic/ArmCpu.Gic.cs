using Kvmfs.Emulator.Cpu.Gic;

namespace Kvmfs.Emulator.Cpu;

public sealed partial class ArmCpu
{
    /// <summary>The distributor/redistributor behind the ICC_* registers; null: no physical interrupt ever pending.</summary>
    public IGicCpuInterfaceBackend? GicBackend;

    /// <summary>The virtual CPU interface's IRQ/FIQ outputs to this vCPU (ICH_LR state against ICH_VMCR/APR),
    /// recomputed whenever that state changes. Taken at EL1 like HCR_EL2.VI/VF when HCR_EL2.IMO/FMO is set.</summary>
    internal bool GicVirtualIrq, GicVirtualFiq;

    /// <summary>The virtual CPU interface's maintenance interrupt (ICH_HCR_EL2.En and ICH_MISR_EL2 != 0). The
    /// hyp/redistributor samples it (it is the PPI 25 of real hardware).</summary>
    public bool GicMaintenanceInterrupt => GicCpuInterface.ComputeMisr(this) != 0 && (Sys(SysReg.ICH_HCR_EL2) & 1) != 0;
}
