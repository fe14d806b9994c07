/* kvmfs conformance build: the kernel tree's tools/include (linux-source-6.1) has no
 * <linux/bitfield.h>, yet aarch64/vgic_init.c includes it for FIELD_PREP. This header is
 * written for kvmfs and provides only the two helpers, for constant masks. */
#ifndef KVMFS_CONFORMANCE_BITFIELD_H
#define KVMFS_CONFORMANCE_BITFIELD_H

/* The position of a mask's lowest set bit. */
#define KVMFS_MASK_SHIFT(mask) __builtin_ctzll((unsigned long long)(mask))

/* Moves a value into the field that mask selects. */
#define FIELD_PREP(mask, val) \
	((__typeof__(mask))(((unsigned long long)(val) << KVMFS_MASK_SHIFT(mask)) & (mask)))

/* Reads the field that mask selects. */
#define FIELD_GET(mask, reg) \
	((__typeof__(mask))(((reg) & (mask)) >> KVMFS_MASK_SHIFT(mask)))

#endif
