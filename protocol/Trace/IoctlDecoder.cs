using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Trace.TraceNode;

namespace Kvmfs.Protocol.Trace;

/// <summary>One ioctl, decoded: what was asked (<see cref="Args"/>) and what came back
/// (<see cref="Result"/>, and <see cref="Out"/> for data returned to the caller).</summary>
public sealed record DecodedCall(
    string Name,
    bool Known,
    string Target,
    IReadOnlyList<TraceNode> Args,
    long Result,
    TraceNode? Out)
{
    public bool IsError => Result < 0;
    public int Errno => IsError ? (int)-Result : 0;
}

/// <summary>KVM_RUN's exit: the reason and the fields of its union member.</summary>
public sealed record ExitNode(string Reason, ObjectNode? Fields) : TraceNode
{
    public override void WriteText(System.Text.StringBuilder sb)
    {
        sb.Append(Reason);
        if (Fields is not null && Fields.Fields.Count > 0)
        {
            sb.Append(' ');
            Fields.WriteText(sb);
        }
    }

    public override void WriteJson(System.Text.Json.Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("reason", Reason);
        if (Fields is not null)
            foreach (var (key, value) in Fields.Fields)
            {
                w.WritePropertyName(key);
                value.WriteJson(w);
                if (value is NotedNode noted) w.WriteString(key + "_name", noted.Annotation);
            }
        w.WriteEndObject();
    }
}

/// <summary>
/// Turns an <see cref="IoctlTraceEvent"/> into a <see cref="DecodedCall"/>: struct fields by
/// name, capabilities, register ids, vGIC attributes and KVM_RUN exits with their symbolic
/// names. Never throws on odd input: short or missing data is shown raw.
/// </summary>
public static class IoctlDecoder
{
    /// <summary>How many register names a KVM_GET_REG_LIST line shows.</summary>
    public const int RegListPreview = 4;

    /// <summary>How many GSI routing entries a KVM_SET_GSI_ROUTING line shows.</summary>
    public const int RoutingPreview = 4;

    public static DecodedCall Decode(IoctlTraceEvent e)
    {
        var fd = IoctlTable.FdFromKind(e.ObjectKind);
        // A KVM ioctl made on the wrong kind of fd (KVM_RUN on a VM: ENOTTY) is still named.
        var info = (fd is { } k ? IoctlTable.Find(e.Command, k) : null) ?? IoctlTable.Find(e.Command);
        string target = e.ObjectKind == "kvm" ? "kvm" : $"{e.ObjectKind} {e.ObjectId}";
        var args = new List<TraceNode>();
        TraceNode? output = null;
        if (info is null)
        {
            if (Ioc.Dir(e.Command) == IocDir.None) args.Add(Dec(e.Argument));
            else args.Add(Hex(e.Argument));
            if (e.DataIn.Length > 0) args.Add(Bytes(e.DataIn));
            if (e.DataOut.Length > 0 && e.Result >= 0) output = Bytes(e.DataOut);
            return new DecodedCall(Ioc.Describe(e.Command), false, target, args, e.Result, output);
        }

        try
        {
            DecodeKnown(e, info, fd ?? KvmFd.Vm, args, ref output);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            // A decoder bug must never lose the line: fall back to raw bytes.
            args.Clear();
            args.Add(Hex(e.Argument));
            if (e.DataIn.Length > 0) args.Add(Bytes(e.DataIn));
            output = e.DataOut.Length > 0 ? Bytes(e.DataOut) : null;
        }
        return new DecodedCall(info.Name, true, target, args, e.Result, output);
    }

    private static void DecodeKnown(IoctlTraceEvent e, IoctlInfo info, KvmFd fd, List<TraceNode> args, ref TraceNode? output)
    {
        bool ok = e.Result >= 0;
        switch (info.Name)
        {
            case nameof(KvmIoctls.KVM_GET_API_VERSION):
            case nameof(KvmIoctls.KVM_GET_VCPU_MMAP_SIZE):
            case nameof(KvmIoctls.KVM_CREATE_IRQCHIP):
            case nameof(KvmIoctls.KVM_GET_STATS_FD):
            case nameof(KvmIoctls.KVM_RESET_DIRTY_RINGS):
                return;

            case nameof(KvmIoctls.KVM_CREATE_VM):
                args.Add(VmType(e.Argument));
                return;

            case nameof(KvmIoctls.KVM_CHECK_EXTENSION):
                args.Add(Sym(e.Argument <= uint.MaxValue ? KvmCaps.Name((uint)e.Argument) : null, e.Argument));
                return;

            case nameof(KvmIoctls.KVM_CREATE_VCPU):
                args.Add(Dec(e.Argument));
                return;

            case nameof(KvmIoctls.KVM_RUN):
                if (ok && e.Run is { } run) output = DecodeExit(run);
                return;

            case nameof(KvmIoctls.KVM_GET_ONE_REG):
            case nameof(KvmIoctls.KVM_SET_ONE_REG):
            {
                if (!TryRead(e.DataIn, out KvmOneReg reg)) break;
                var obj = Obj().Add("id", RegId(reg.id)).Add("addr", Hex(reg.addr));
                int size = OneRegId.SizeBytes(reg.id);
                if (info.Name == nameof(KvmIoctls.KVM_SET_ONE_REG))
                {
                    if (FindCopy(e, reg.addr, toKernel: true) is { } v) obj.Add("value", RegValue(v, size));
                }
                else if (ok && FindCopy(e, reg.addr, toKernel: false) is { } v)
                {
                    output = RegValue(v, size);
                }
                args.Add(obj);
                return;
            }

            case nameof(KvmIoctls.KVM_GET_REG_LIST):
            {
                if (TryRead(e.DataIn, out KvmRegList req)) args.Add(Obj().Add("n", Dec(req.n)));
                // On E2BIG KVM still writes the needed n back, with its own copy_to_user.
                byte[] back = e.DataOut.Length > 0 ? e.DataOut : FindCopy(e, e.Argument, toKernel: false) ?? [];
                if (TryRead(back, out KvmRegList resp))
                {
                    var obj = Obj().Add("n", Dec(resp.n));
                    if (ok && FindCopy(e, e.Argument + 8, toKernel: false) is { } ids)
                    {
                        int count = (int)Math.Min(resp.n, (ulong)(ids.Length / 8));
                        var names = new List<TraceNode>();
                        for (int i = 0; i < Math.Min(count, RegListPreview); i++)
                            names.Add(Sym(OneRegId.Name(BinaryPrimitives.ReadUInt64LittleEndian(ids.AsSpan(8 * i))) ?? "?"));
                        obj.Add("reg", List(names, count - names.Count));
                    }
                    output = obj;
                }
                return;
            }

            case nameof(KvmIoctls.KVM_ARM_VCPU_INIT):
                if (TryRead(e.DataIn, out KvmVcpuInit init)) { args.Add(VcpuInit(init)); return; }
                break;

            case nameof(KvmIoctls.KVM_ARM_PREFERRED_TARGET):
                if (ok && TryRead(e.DataOut, out KvmVcpuInit pref)) output = VcpuInit(pref);
                return;

            case nameof(KvmIoctls.KVM_ARM_VCPU_FINALIZE):
                if (e.DataIn.Length >= 4)
                {
                    int feature = BinaryPrimitives.ReadInt32LittleEndian(e.DataIn);
                    args.Add(Sym(KvmArm.FeatureName(feature), (ulong)feature));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_SET_USER_MEMORY_REGION):
                if (TryRead(e.DataIn, out KvmUserspaceMemoryRegion mem))
                {
                    args.Add(Obj()
                        .Add("slot", Dec(mem.slot))
                        .Add("flags", Flags(mem.flags, typeof(KvmMem)))
                        .Add("guest_phys_addr", Hex(mem.guest_phys_addr))
                        .Add("memory_size", Hex(mem.memory_size))
                        .Add("userspace_addr", Hex(mem.userspace_addr)));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_SET_DEVICE_ATTR):
            case nameof(KvmIoctls.KVM_GET_DEVICE_ATTR):
            case nameof(KvmIoctls.KVM_HAS_DEVICE_ATTR):
            {
                if (!TryRead(e.DataIn, out KvmDeviceAttr attr)) break;
                args.Add(DeviceAttr(attr, fd, e, info.Name == nameof(KvmIoctls.KVM_SET_DEVICE_ATTR)));
                if (ok && info.Name == nameof(KvmIoctls.KVM_GET_DEVICE_ATTR) && FindCopy(e, attr.addr, toKernel: false) is { } v)
                    output = LittleEndianValue(v);
                return;
            }

            case nameof(KvmIoctls.KVM_CREATE_DEVICE):
                if (TryRead(e.DataIn, out KvmCreateDevice dev))
                {
                    args.Add(Obj().Add("type", Sym(KvmDevType.Name(dev.type), dev.type))
                        .Add("flags", Flags(dev.flags, typeof(KvmDevType), "KVM_CREATE_DEVICE_")));
                    // With KVM_CREATE_DEVICE_TEST no device is made and fd is left as the caller set it.
                    if (ok && (dev.flags & KvmDevType.KVM_CREATE_DEVICE_TEST) == 0 && TryRead(e.DataOut, out KvmCreateDevice created))
                        output = Obj().Add("fd", Dec(created.fd));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_IRQ_LINE):
            case nameof(KvmIoctls.KVM_IRQ_LINE_STATUS):
                if (TryRead(e.DataIn, out KvmIrqLevel line))
                {
                    var (type, vcpu, num) = KvmArm.DecodeIrqLine(line.irq);
                    string typeName = type switch
                    {
                        KvmArm.KVM_ARM_IRQ_TYPE_CPU => "CPU",
                        KvmArm.KVM_ARM_IRQ_TYPE_SPI => "SPI",
                        KvmArm.KVM_ARM_IRQ_TYPE_PPI => "PPI",
                        _ => $"type{type}",
                    };
                    args.Add(Obj().Add("irq", Note(Hex(line.irq), $"({typeName}, vcpu {vcpu}, num {num})")).Add("level", Dec(line.level)));
                    if (ok && info.Name == nameof(KvmIoctls.KVM_IRQ_LINE_STATUS) && TryRead(e.DataOut, out KvmIrqLevel st))
                        output = Obj().Add("status", Dec(st.status));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_IRQFD):
                if (TryRead(e.DataIn, out KvmIrqfd irqfd))
                {
                    var obj = Obj().Add("fd", Dec(irqfd.fd)).Add("gsi", Dec(irqfd.gsi))
                        .Add("flags", Flags(irqfd.flags, typeof(KvmIrqfdFlags)));
                    if ((irqfd.flags & KvmIrqfdFlags.KVM_IRQFD_FLAG_RESAMPLE) != 0) obj.Add("resamplefd", Dec(irqfd.resamplefd));
                    args.Add(obj);
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_IOEVENTFD):
                if (TryRead(e.DataIn, out KvmIoeventfd io))
                {
                    args.Add(Obj().Add("datamatch", Hex(io.datamatch)).Add("addr", Hex(io.addr)).Add("len", Dec(io.len))
                        .Add("fd", Dec(io.fd)).Add("flags", Flags(io.flags, typeof(KvmIoeventfdFlags), "KVM_IOEVENTFD_FLAG_")));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_ENABLE_CAP):
                if (TryRead(e.DataIn, out KvmEnableCap cap))
                {
                    var a = new List<TraceNode>();
                    unsafe { for (int i = 0; i < 4; i++) a.Add(Hex(cap.args[i])); }
                    args.Add(Obj().Add("cap", Sym(KvmCaps.Name(cap.cap), cap.cap)).Add("flags", Hex(cap.flags)).Add("args", List(a)));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_GET_MP_STATE):
                if (ok && TryRead(e.DataOut, out KvmMpState got)) output = Obj().Add("mp_state", Sym(KvmMpStates.Name(got.mp_state), got.mp_state));
                return;

            case nameof(KvmIoctls.KVM_SET_MP_STATE):
                if (TryRead(e.DataIn, out KvmMpState set)) { args.Add(Obj().Add("mp_state", Sym(KvmMpStates.Name(set.mp_state), set.mp_state))); return; }
                break;

            case nameof(KvmIoctls.KVM_SET_GSI_ROUTING):
                if (TryRead(e.DataIn, out KvmIrqRouting routing))
                {
                    var obj = Obj().Add("nr", Dec(routing.nr)).Add("flags", Hex(routing.flags));
                    if (FindCopy(e, e.Argument + 8, toKernel: true) is { } entries)
                        obj.Add("entries", RoutingEntries(entries, routing.nr));
                    args.Add(obj);
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_SIGNAL_MSI):
                if (TryRead(e.DataIn, out KvmMsi msi))
                {
                    var obj = Obj().Add("address", Hex((ulong)msi.address_hi << 32 | msi.address_lo)).Add("data", Hex(msi.data))
                        .Add("flags", Flags(msi.flags, typeof(KvmIrqRoutingType), "KVM_MSI_"));
                    if ((msi.flags & KvmIrqRoutingType.KVM_MSI_VALID_DEVID) != 0) obj.Add("devid", Hex(msi.devid));
                    args.Add(obj);
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_SET_SIGNAL_MASK):
                if (TryRead(e.DataIn, out KvmSignalMask mask))
                {
                    var obj = Obj().Add("len", Dec(mask.len));
                    if (FindCopy(e, e.Argument + 4, toKernel: true) is { Length: 8 } sigset)
                        obj.Add("sigset", Hex(BinaryPrimitives.ReadUInt64LittleEndian(sigset)));
                    args.Add(obj);
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_ARM_SET_DEVICE_ADDR):
                if (TryRead(e.DataIn, out KvmArmDeviceAddr da))
                {
                    ulong device = (da.id & KvmArm.KVM_ARM_DEVICE_ID_MASK) >> KvmArm.KVM_ARM_DEVICE_ID_SHIFT;
                    ulong type = da.id & KvmArm.KVM_ARM_DEVICE_TYPE_MASK;
                    string note = device == KvmArm.KVM_ARM_DEVICE_VGIC_V2
                        ? $"(KVM_ARM_DEVICE_VGIC_V2, {AddrTypeName(type) ?? type.ToString()})"
                        : $"(device {device}, type {type})";
                    args.Add(Obj().Add("id", Note(Hex(da.id), note)).Add("addr", Hex(da.addr)));
                    return;
                }
                break;

            case nameof(KvmIoctls.KVM_SET_GUEST_DEBUG):
                if (TryRead(e.DataIn, out KvmGuestDebug dbg))
                {
                    args.Add(Obj().Add("control", Flags(dbg.control, typeof(KvmGuestDebugFlags))));
                    return;
                }
                break;
        }

        // Everything else: fields by reflection over the table's struct type.
        if (info.Arg == IoctlArg.Value) args.Add(Dec(e.Argument));
        else if (info.StructType is { } t)
        {
            // Input only for _IOW/_IOWR, output only for _IOR/_IOWR, as the kernel copies them.
            bool writes = info.StructIn, reads = info.StructOut;
            // When the direction bits say _IOR but the kernel reads the struct (DirOverride), the
            // front end ships no DataIn and the handler copies the struct from the argument itself.
            byte[] input = e.DataIn.Length == 0 && info.DirOverride is not null && FindCopy(e, e.Argument, toKernel: true) is { } copied
                ? copied : e.DataIn;
            // A struct shorter than its type (a broken front end) shows where it came from.
            if (writes && input.Length > 0 && input.Length < Marshal.SizeOf(t)) args.Add(Hex(e.Argument));
            if (writes && input.Length > 0) args.Add(Generic(t, input));
            if (reads && ok && e.DataOut.Length > 0) output = Generic(t, e.DataOut);
        }
        else if (e.DataIn.Length > 0) args.Add(Bytes(e.DataIn));
    }

    private static TraceNode VmType(ulong type)
    {
        if (type == 0) return Dec(0);
        if ((type & ~Kvm.KVM_VM_TYPE_ARM_IPA_SIZE_MASK) == 0)
            return Sym($"KVM_VM_TYPE_ARM_IPA_SIZE({type & Kvm.KVM_VM_TYPE_ARM_IPA_SIZE_MASK})");
        return Hex(type);
    }

    private static TraceNode RegId(ulong id) => OneRegId.Name(id) is { } name ? Note(Hex(id), name) : Hex(id);

    /// <summary>A register value: hex of its little-endian bytes (128-bit and wider as one hex number).</summary>
    private static TraceNode RegValue(byte[] bytes, int size)
    {
        if (bytes.Length != size) return Bytes(bytes);
        if (size <= 8) return LittleEndianValue(bytes);
        var hex = new System.Text.StringBuilder();
        for (int i = bytes.Length - 1; i >= 0; i--) hex.Append(bytes[i].ToString("x2"));
        string digits = hex.ToString().TrimStart('0');
        return Sym("0x" + (digits.Length == 0 ? "0" : digits));
    }

    private static TraceNode LittleEndianValue(byte[] bytes) => bytes.Length switch
    {
        1 => Hex(bytes[0]),
        2 => Hex(BinaryPrimitives.ReadUInt16LittleEndian(bytes)),
        4 => Hex(BinaryPrimitives.ReadUInt32LittleEndian(bytes)),
        8 => Hex(BinaryPrimitives.ReadUInt64LittleEndian(bytes)),
        _ => Bytes(bytes),
    };

    private static unsafe ObjectNode VcpuInit(KvmVcpuInit init)
    {
        var features = new List<string>();
        for (int word = 0; word < 7; word++)
            for (int bit = 0; bit < 32; bit++)
                if ((init.features[word] & (1u << bit)) != 0)
                    features.Add(KvmArm.FeatureName(word * 32 + bit) ?? $"bit{word * 32 + bit}");
        return Obj().Add("target", Sym(KvmArm.TargetName(init.target), init.target))
            .Add("features", List(features.Select(f => (TraceNode)Sym(f))));
    }

    private static ObjectNode DeviceAttr(KvmDeviceAttr attr, KvmFd fd, IoctlTraceEvent e, bool isSet)
    {
        var obj = Obj().Add("flags", Hex(attr.flags));
        string? group = null;
        TraceNode attrNode = Hex(attr.attr);
        if (fd == KvmFd.Device)
        {
            group = KvmVgic.GroupName(attr.group);
            attrNode = attr.group switch
            {
                KvmVgic.KVM_DEV_ARM_VGIC_GRP_ADDR => Sym(AddrTypeName(attr.attr), attr.attr),
                KvmVgic.KVM_DEV_ARM_VGIC_GRP_CTRL => Sym(UapiNames.Lookup(typeof(KvmVgic), attr.attr, null,
                    static n => n.StartsWith("KVM_DEV_ARM_VGIC_CTRL_", StringComparison.Ordinal) || n.StartsWith("KVM_DEV_ARM_ITS_", StringComparison.Ordinal)
                        || n == "KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES"), attr.attr),
                KvmVgic.KVM_DEV_ARM_VGIC_GRP_DIST_REGS or KvmVgic.KVM_DEV_ARM_VGIC_GRP_CPU_REGS or KvmVgic.KVM_DEV_ARM_VGIC_GRP_REDIST_REGS =>
                    Note(Hex(attr.attr), $"(cpu 0x{attr.attr >> KvmVgic.KVM_DEV_ARM_VGIC_CPUID_SHIFT:x}, offset 0x{attr.attr & KvmVgic.KVM_DEV_ARM_VGIC_OFFSET_MASK:x})"),
                KvmVgic.KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS => Note(Hex(attr.attr), SysRegAttr(attr.attr)),
                _ => attrNode,
            };
        }
        else if (fd == KvmFd.Vcpu)
        {
            (group, string? name) = attr.group switch
            {
                KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL => ("KVM_ARM_VCPU_PMU_V3_CTRL", UapiNames.Lookup(typeof(KvmArm), attr.attr, "KVM_ARM_VCPU_PMU_V3_", static n => n != "KVM_ARM_VCPU_PMU_V3_CTRL")),
                KvmArm.KVM_ARM_VCPU_TIMER_CTRL => ("KVM_ARM_VCPU_TIMER_CTRL", UapiNames.Lookup(typeof(KvmArm), attr.attr, "KVM_ARM_VCPU_TIMER_IRQ_")),
                KvmArm.KVM_ARM_VCPU_PVTIME_CTRL => ("KVM_ARM_VCPU_PVTIME_CTRL", UapiNames.Lookup(typeof(KvmArm), attr.attr, "KVM_ARM_VCPU_PVTIME_IPA")),
                _ => ((string?)null, (string?)null),
            };
            if (name is not null) attrNode = Sym(name);
        }
        obj.Add("group", Sym(group, attr.group)).Add("attr", attrNode).Add("addr", Hex(attr.addr));
        if (isSet && FindCopy(e, attr.addr, toKernel: true) is { } v)
        {
            var value = LittleEndianValue(v);
            if (fd == KvmFd.Device && attr.group == KvmVgic.KVM_DEV_ARM_VGIC_GRP_ADDR
                && attr.attr == KvmVgic.KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION && v.Length == 8)
            {
                ulong r = BinaryPrimitives.ReadUInt64LittleEndian(v);
                value = Note(value, $"(index {r & KvmVgic.KVM_VGIC_V3_RDIST_INDEX_MASK}, base 0x{r & KvmVgic.KVM_VGIC_V3_RDIST_BASE_MASK:x}, " +
                    $"count {(r & KvmVgic.KVM_VGIC_V3_RDIST_COUNT_MASK) >> KvmVgic.KVM_VGIC_V3_RDIST_COUNT_SHIFT})");
            }
            obj.Add("value", value);
        }
        return obj;
    }

    private static string SysRegAttr(ulong attr)
    {
        ulong mpidr = (attr & KvmVgic.KVM_DEV_ARM_VGIC_V3_MPIDR_MASK) >> KvmVgic.KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
        ulong instr = attr & KvmVgic.KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK;
        var (op0, op1, crn, crm, op2) = OneRegId.SysRegFields(instr);
        return $"(mpidr 0x{mpidr:x}, {SysRegs.Name(op0, op1, crn, crm, op2)})";
    }

    private static string? AddrTypeName(ulong type) => UapiNames.Lookup(typeof(KvmVgic), type, null,
        static n => n.StartsWith("KVM_VGIC_", StringComparison.Ordinal) && n.Contains("ADDR_TYPE", StringComparison.Ordinal));

    private static ListNode RoutingEntries(byte[] bytes, uint nr)
    {
        int size = Unsafe.SizeOf<KvmIrqRoutingEntry>();
        int available = (int)Math.Min(nr, (uint)(bytes.Length / size));
        var items = new List<TraceNode>();
        for (int i = 0; i < Math.Min(available, RoutingPreview); i++)
        {
            var entry = MemoryMarshal.Read<KvmIrqRoutingEntry>(bytes.AsSpan(i * size, size));
            var obj = Obj().Add("gsi", Dec(entry.gsi)).Add("type", Sym(KvmIrqRoutingType.Name(entry.type), entry.type));
            if (entry.type == KvmIrqRoutingType.KVM_IRQ_ROUTING_IRQCHIP)
                obj.Add("irqchip", Dec(entry.u.irqchip.irqchip)).Add("pin", Dec(entry.u.irqchip.pin));
            else if (entry.type == KvmIrqRoutingType.KVM_IRQ_ROUTING_MSI)
            {
                obj.Add("address", Hex((ulong)entry.u.msi.address_hi << 32 | entry.u.msi.address_lo)).Add("data", Hex(entry.u.msi.data));
                if ((entry.flags & KvmIrqRoutingType.KVM_MSI_VALID_DEVID) != 0) obj.Add("devid", Hex(entry.u.msi.devid));
            }
            items.Add(obj);
        }
        return List(items, (int)nr - items.Count);
    }

    /// <summary>KVM_RUN's exit, from the head of struct kvm_run (<see cref="IoctlTraceEvent.Run"/>).</summary>
    public static unsafe TraceNode DecodeExit(byte[] runBytes)
    {
        var buffer = new byte[Unsafe.SizeOf<KvmRun>()];
        runBytes.AsSpan(0, Math.Min(runBytes.Length, buffer.Length)).CopyTo(buffer);
        var run = MemoryMarshal.Read<KvmRun>(buffer);
        string reason = KvmExit.Name(run.exit_reason) ?? $"exit_reason {run.exit_reason}";
        if (runBytes.Length < KvmRun.ExitUnionOffset) return new ExitNode(reason, null);
        ObjectNode? f = null;
        switch (run.exit_reason)
        {
            case KvmExit.KVM_EXIT_MMIO:
            {
                f = Obj().Add("phys_addr", Hex(run.mmio.phys_addr)).Add("len", Dec(run.mmio.len)).Add("is_write", Dec(run.mmio.is_write));
                // The data of a read is the VMM's to fill after the exit: only a write carries it.
                if (run.mmio.is_write != 0)
                {
                    var data = new byte[Math.Min(run.mmio.len, 8u)];
                    for (int i = 0; i < data.Length; i++) data[i] = run.mmio.data[i];
                    f.Add("data", Bytes(data));
                }
                break;
            }
            case KvmExit.KVM_EXIT_SYSTEM_EVENT:
            {
                f = Obj().Add("type", Sym(KvmSystemEvent.Name(run.system_event.type), run.system_event.type))
                    .Add("ndata", Dec(run.system_event.ndata));
                var data = new List<TraceNode>();
                for (int i = 0; i < Math.Min(run.system_event.ndata, 16u); i++) data.Add(Hex(run.system_event.data[i]));
                f.Add("data", List(data));
                break;
            }
            case KvmExit.KVM_EXIT_FAIL_ENTRY:
            {
                ulong why = run.fail_entry.hardware_entry_failure_reason;
                f = Obj().Add("hardware_entry_failure_reason", why == KvmExit.KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED
                        ? Note(Hex(why), "KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED") : Hex(why))
                    .Add("cpu", Dec(run.fail_entry.cpu));
                break;
            }
            case KvmExit.KVM_EXIT_INTERNAL_ERROR:
            {
                f = Obj().Add("suberror", Sym(UapiNames.Lookup(typeof(KvmExit), run.@internal.suberror, "KVM_INTERNAL_ERROR_"), run.@internal.suberror))
                    .Add("ndata", Dec(run.@internal.ndata));
                var data = new List<TraceNode>();
                for (int i = 0; i < Math.Min(run.@internal.ndata, 16u); i++) data.Add(Hex(run.@internal.data[i]));
                f.Add("data", List(data));
                break;
            }
            case KvmExit.KVM_EXIT_ARM_NISV:
                f = Obj().Add("esr_iss", Hex(run.arm_nisv.esr_iss)).Add("fault_ipa", Hex(run.arm_nisv.fault_ipa));
                break;
            case KvmExit.KVM_EXIT_DEBUG:
                f = Obj().Add("hsr", Hex(run.debug.arch.hsr)).Add("hsr_high", Hex(run.debug.arch.hsr_high)).Add("far", Hex(run.debug.arch.far));
                break;
            case KvmExit.KVM_EXIT_HYPERCALL:
            {
                var a = new List<TraceNode>();
                for (int i = 0; i < 6; i++) a.Add(Hex(run.hypercall.args[i]));
                f = Obj().Add("nr", Hex(run.hypercall.nr)).Add("args", List(a)).Add("ret", Hex(run.hypercall.ret))
                    .Add("longmode", Dec(run.hypercall.longmode));
                break;
            }
            case KvmExit.KVM_EXIT_UNKNOWN:
                f = Obj().Add("hardware_exit_reason", Hex(run.hw.hardware_exit_reason));
                break;
        }
        return new ExitNode(reason, f);
    }

    /// <summary>"KVM_MEM_LOG_DIRTY_PAGES|0x8", or 0, from the one-bit constants of a flag class.</summary>
    public static TraceNode Flags(uint value, Type flagClass, string? prefix = null)
    {
        if (value == 0) return Dec(0);
        var parts = new List<string>();
        uint rest = value;
        foreach (var (name, bit, _) in UapiNames.Constants(flagClass))
        {
            if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (bit == 0 || (bit & (bit - 1)) != 0 || bit > uint.MaxValue) continue;
            if ((rest & (uint)bit) != 0) { parts.Add(name); rest &= ~(uint)bit; }
        }
        if (rest != 0) parts.Add("0x" + rest.ToString("x"));
        return Sym(string.Join('|', parts));
    }

    /// <summary>Any table struct, field by field (pad/reserved fields only when non-zero).</summary>
    public static TraceNode Generic(Type type, byte[] bytes)
    {
        int size = Marshal.SizeOf(type);
        if (bytes.Length < size) return Bytes(bytes);
        return GenericAt(type, bytes, 0);
    }

    private static ObjectNode GenericAt(Type type, byte[] bytes, int baseOffset)
    {
        var obj = Obj();
        var seen = new HashSet<int>();
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            int offset = baseOffset + (int)Marshal.OffsetOf(type, field.Name);
            if (!seen.Add(offset - baseOffset)) continue; // union: the first member names the bytes
            bool padding = field.Name.StartsWith("pad", StringComparison.Ordinal) || field.Name.Contains("reserved", StringComparison.Ordinal);
            var fixedBuffer = field.GetCustomAttribute<FixedBufferAttribute>();
            if (fixedBuffer is not null)
            {
                int elem = Marshal.SizeOf(fixedBuffer.ElementType);
                var span = bytes.AsSpan(offset, elem * fixedBuffer.Length);
                if (padding && !span.ContainsAnyExcept((byte)0)) continue;
                if (elem == 1) { obj.Add(field.Name, Bytes(span)); continue; }
                var items = new List<TraceNode>();
                for (int i = 0; i < fixedBuffer.Length; i++) items.Add(Primitive(fixedBuffer.ElementType, bytes.AsSpan(offset + i * elem, elem)));
                obj.Add(field.Name, List(items));
                continue;
            }
            if (field.FieldType.IsPrimitive)
            {
                var span = bytes.AsSpan(offset, Marshal.SizeOf(field.FieldType));
                if (padding && !span.ContainsAnyExcept((byte)0)) continue;
                obj.Add(field.Name, Primitive(field.FieldType, span));
            }
            else
            {
                obj.Add(field.Name, GenericAt(field.FieldType, bytes, offset));
            }
        }
        return obj;
    }

    private static TraceNode Primitive(Type t, ReadOnlySpan<byte> b) =>
        t == typeof(byte) ? Dec(b[0])
        : t == typeof(ushort) ? Dec(BinaryPrimitives.ReadUInt16LittleEndian(b))
        : t == typeof(short) ? Dec(BinaryPrimitives.ReadInt16LittleEndian(b))
        : t == typeof(uint) ? Dec(BinaryPrimitives.ReadUInt32LittleEndian(b))
        : t == typeof(int) ? Dec(BinaryPrimitives.ReadInt32LittleEndian(b))
        : t == typeof(ulong) ? Hex(BinaryPrimitives.ReadUInt64LittleEndian(b))
        : t == typeof(long) ? Dec(BinaryPrimitives.ReadInt64LittleEndian(b))
        : Bytes(b);

    private static byte[]? FindCopy(IoctlTraceEvent e, ulong address, bool toKernel)
    {
        foreach (var copy in e.UserCopies)
            if (copy.Address == address && copy.ToKernel == toKernel) return copy.Bytes;
        return null;
    }

    private static bool TryRead<T>(byte[] bytes, out T value) where T : unmanaged
    {
        if (bytes.Length < Unsafe.SizeOf<T>()) { value = default; return false; }
        value = MemoryMarshal.Read<T>(bytes);
        return true;
    }
}
