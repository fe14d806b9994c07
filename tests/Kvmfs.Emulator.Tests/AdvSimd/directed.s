// Directed FP/AdvSIMD instructions for SimdDifferentialTests: the forms glibc's string/memory
// routines, busybox and gcc -O2 -ftree-vectorize code use, one per line, each executed from many
// random register states on our CPU and under qemu-aarch64-static.
	.arch armv8-a+crypto
	cmeq v0.16b, v1.16b, v2.16b
	cmeq v0.16b, v1.16b, #0
	cmeq v3.8b, v4.8b, #0
	cmeq v1.2d, v2.2d, v3.2d
	cmhi v0.16b, v1.16b, v2.16b
	cmhs v0.4s, v1.4s, v2.4s
	cmgt v0.8h, v1.8h, v2.8h
	cmge v0.2d, v1.2d, #0
	cmlt v0.4s, v1.4s, #0
	cmtst v0.16b, v1.16b, v2.16b
	umaxv b0, v1.16b
	umaxv h0, v1.8h
	uminv b0, v1.16b
	uminv s0, v1.4s
	smaxv b0, v1.8b
	addv b0, v1.16b
	addv h0, v1.4h
	addv s0, v1.4s
	uaddlv h0, v1.16b
	saddlv s0, v1.8h
	addp v0.16b, v1.16b, v2.16b
	addp v0.2d, v1.2d, v2.2d
	addp d0, v1.2d
	umaxp v0.16b, v1.16b, v2.16b
	uminp v0.4s, v1.4s, v2.4s
	shrn v0.8b, v1.8h, #4
	shrn2 v0.16b, v1.8h, #4
	rshrn v0.4h, v1.4s, #3
	sqxtn v0.8b, v1.8h
	uqxtn2 v0.8h, v1.4s
	xtn v0.8b, v1.8h
	xtn2 v0.4s, v1.2d
	bic v0.16b, v1.16b, v2.16b
	bic v0.4s, #0xff, lsl #8
	orr v0.16b, v1.16b, v2.16b
	orr v0.8h, #0x12
	orn v0.8b, v1.8b, v2.8b
	and v0.16b, v1.16b, v2.16b
	eor v0.16b, v1.16b, v2.16b
	bsl v0.16b, v1.16b, v2.16b
	bit v0.16b, v1.16b, v2.16b
	bif v0.8b, v1.8b, v2.8b
	not v0.16b, v1.16b
	dup v0.16b, w1
	dup v0.2d, x1
	dup v0.4s, v1.s[2]
	dup v0.8b, v1.b[15]
	dup b0, v1.b[3]
	dup d0, v1.d[1]
	movi v0.16b, #0x40
	movi v0.2d, #0xff00ff0000ff00ff
	movi d0, #0xff00000000ff00ff
	movi v0.4s, #0x5a, msl #16
	mvni v0.8h, #0x3, lsl #8
	fmov v0.4s, #1.5
	fmov v0.2d, #-0.125
	umov w0, v1.b[5]
	umov w0, v1.h[7]
	umov w0, v1.s[3]
	umov x0, v1.d[1]
	smov x0, v1.b[9]
	smov w0, v1.h[2]
	smov x0, v1.s[1]
	ins v0.s[1], w1
	ins v0.d[1], x1
	ins v0.b[13], v1.b[2]
	cnt v0.16b, v1.16b
	cnt v0.8b, v1.8b
	clz v0.4s, v1.4s
	cls v0.8h, v1.8h
	rbit v0.16b, v1.16b
	rev64 v0.16b, v1.16b
	rev32 v0.8h, v1.8h
	rev16 v0.16b, v1.16b
	ext v0.16b, v1.16b, v2.16b, #7
	ext v0.8b, v1.8b, v2.8b, #3
	tbl v0.16b, {v1.16b}, v2.16b
	tbl v0.16b, {v1.16b, v2.16b}, v3.16b
	tbl v0.8b, {v4.16b, v5.16b, v6.16b, v7.16b}, v3.8b
	tbx v0.16b, {v1.16b}, v2.16b
	zip1 v0.16b, v1.16b, v2.16b
	zip2 v0.8h, v1.8h, v2.8h
	uzp1 v0.16b, v1.16b, v2.16b
	uzp2 v0.4s, v1.4s, v2.4s
	trn1 v0.8b, v1.8b, v2.8b
	trn2 v0.2d, v1.2d, v2.2d
	add v0.2d, v1.2d, v2.2d
	add d0, d1, d2
	sub v0.16b, v1.16b, v2.16b
	mul v0.4s, v1.4s, v2.4s
	mla v0.8h, v1.8h, v2.8h
	mls v0.4s, v1.4s, v2.s[1]
	mul v0.8h, v1.8h, v2.h[5]
	umull v0.2d, v1.2s, v2.2s
	umull2 v0.8h, v1.16b, v2.16b
	smull v0.4s, v1.4h, v2.h[3]
	umlal v0.2d, v1.2s, v2.2s
	smlal2 v0.4s, v1.8h, v2.8h
	uaddl v0.8h, v1.8b, v2.8b
	uaddw2 v0.4s, v1.4s, v2.8h
	ssubl v0.2d, v1.2s, v2.2s
	usubw v0.8h, v1.8h, v2.8b
	addhn v0.8b, v1.8h, v2.8h
	raddhn2 v0.8h, v1.4s, v2.4s
	uabd v0.16b, v1.16b, v2.16b
	uaba v0.8h, v1.8h, v2.8h
	sabdl v0.4s, v1.4h, v2.4h
	uabal2 v0.8h, v1.16b, v2.16b
	uaddlp v0.8h, v1.16b
	uadalp v0.4s, v1.8h
	saddlp v0.2d, v1.4s
	abs v0.4s, v1.4s
	neg v0.2d, v1.2d
	neg d0, d1
	sqabs v0.16b, v1.16b
	sqneg v0.8h, v1.8h
	uqadd v0.16b, v1.16b, v2.16b
	sqadd v0.4s, v1.4s, v2.4s
	uqsub v0.8h, v1.8h, v2.8h
	sqsub d0, d1, d2
	uhadd v0.16b, v1.16b, v2.16b
	srhadd v0.4s, v1.4s, v2.4s
	umax v0.16b, v1.16b, v2.16b
	smin v0.8h, v1.8h, v2.8h
	sqdmulh v0.4s, v1.4s, v2.4s
	sqrdmulh v0.8h, v1.8h, v2.h[1]
	sqdmull v0.2d, v1.2s, v2.2s
	sqdmlal s0, h1, h2
	pmul v0.16b, v1.16b, v2.16b
	pmull v0.8h, v1.8b, v2.8b
	ushr v0.16b, v1.16b, #3
	ushr d0, d1, #63
	sshr v0.4s, v1.4s, #31
	sshr v0.2d, v1.2d, #64
	shl v0.8h, v1.8h, #15
	shl d0, d1, #1
	usra v0.2d, v1.2d, #7
	srshr v0.4s, v1.4s, #5
	ursra v0.16b, v1.16b, #8
	sri v0.8h, v1.8h, #4
	sli v0.4s, v1.4s, #9
	sqshl v0.16b, v1.16b, #3
	uqshl s0, s1, #20
	sqshlu v0.8h, v1.8h, #5
	sqshrn v0.4h, v1.4s, #9
	sqrshrun2 v0.16b, v1.8h, #2
	uqrshrn h0, s1, #3
	ushll v0.8h, v1.8b, #0
	ushll2 v0.4s, v1.8h, #4
	sshll v0.2d, v1.2s, #31
	ushl v0.16b, v1.16b, v2.16b
	sshl v0.2d, v1.2d, v2.2d
	urshl v0.4s, v1.4s, v2.4s
	sqrshl v0.8h, v1.8h, v2.8h
	uqshl d0, d1, d2
	shll v0.8h, v1.8b, #8
	fmov s0, w1
	fmov w0, s1
	fmov d0, x1
	fmov x0, d1
	fmov v0.d[1], x1
	fmov x0, v1.d[1]
	fmov s0, #0.5
	fmov d0, #-31.0
	fmov d0, d1
	fadd d0, d1, d2
	fsub s0, s1, s2
	fmul d0, d1, d2
	fdiv s0, s1, s2
	fnmul d0, d1, d2
	fmax d0, d1, d2
	fminnm s0, s1, s2
	fabs d0, d1
	fneg s0, s1
	fsqrt d0, d1
	fmadd d0, d1, d2, d3
	fmsub s0, s1, s2, s3
	fnmadd d0, d1, d2, d3
	fnmsub s0, s1, s2, s3
	fcmp d0, d1
	fcmpe s0, #0.0
	fccmp d0, d1, #4, ne
	fccmpe s0, s1, #2, ge
	fcsel d0, d1, d2, lt
	fcvt s0, d1
	fcvt d0, s1
	fcvt h0, s1
	fcvt d0, h1
	frintn d0, d1
	frinta s0, s1
	frintm d0, d1
	frintp s0, s1
	frintz d0, d1
	frintx d0, d1
	frinti s0, s1
	fcvtzs w0, d1
	fcvtzs x0, s1
	fcvtzu w0, s1
	fcvtzu x0, d1
	fcvtns x0, d1
	fcvtms w0, d1
	fcvtps x0, s1
	fcvtas w0, d1
	fcvtau x0, d1
	fcvtzs w0, d1, #16
	fcvtzu x0, s1, #40
	scvtf d0, w1
	scvtf s0, x1
	ucvtf d0, x1
	ucvtf s0, w1
	scvtf d0, x1, #12
	ucvtf s0, w1, #32
	fadd v0.4s, v1.4s, v2.4s
	fadd v0.2d, v1.2d, v2.2d
	fsub v0.2s, v1.2s, v2.2s
	fmul v0.4s, v1.4s, v2.4s
	fmul v0.2d, v1.2d, v2.d[1]
	fmul s0, s1, v2.s[3]
	fdiv v0.2d, v1.2d, v2.2d
	fmla v0.4s, v1.4s, v2.4s
	fmla v0.2d, v1.2d, v2.d[0]
	fmla d0, d1, v2.d[1]
	fmls v0.4s, v1.4s, v2.s[2]
	fmulx v0.4s, v1.4s, v2.4s
	fmulx d0, d1, d2
	fmax v0.4s, v1.4s, v2.4s
	fminnm v0.2d, v1.2d, v2.2d
	fmaxp v0.4s, v1.4s, v2.4s
	faddp v0.4s, v1.4s, v2.4s
	faddp d0, v1.2d
	faddp s0, v1.2s
	fmaxnmp s0, v1.2s
	fminp d0, v1.2d
	fmaxv s0, v1.4s
	fminnmv s0, v1.4s
	fabd v0.4s, v1.4s, v2.4s
	fabd d0, d1, d2
	fabs v0.2d, v1.2d
	fneg v0.4s, v1.4s
	fsqrt v0.4s, v1.4s
	fcmeq v0.4s, v1.4s, v2.4s
	fcmeq v0.2d, v1.2d, #0.0
	fcmge v0.4s, v1.4s, v2.4s
	fcmgt d0, d1, d2
	fcmle v0.4s, v1.4s, #0.0
	fcmlt s0, s1, #0.0
	facge v0.4s, v1.4s, v2.4s
	facgt s0, s1, s2
	frecpe v0.4s, v1.4s
	frecpe d0, d1
	frecps v0.4s, v1.4s, v2.4s
	frsqrte v0.2d, v1.2d
	frsqrts s0, s1, s2
	frecpx d0, d1
	urecpe v0.4s, v1.4s
	ursqrte v0.2s, v1.2s
	frintn v0.4s, v1.4s
	frintz v0.2d, v1.2d
	frinti v0.4s, v1.4s
	frintx v0.2s, v1.2s
	fcvtzs v0.4s, v1.4s
	fcvtzu v0.2d, v1.2d
	fcvtns s0, s1
	fcvtau d0, d1
	fcvtzs v0.4s, v1.4s, #3
	ucvtf v0.2d, v1.2d, #10
	scvtf v0.4s, v1.4s
	ucvtf d0, d1
	scvtf s0, s1, #1
	fcvtn v0.4h, v1.4s
	fcvtn2 v0.4s, v1.2d
	fcvtl v0.2d, v1.2s
	fcvtl2 v0.4s, v1.8h
	fcvtxn v0.2s, v1.2d
	fcvtxn s0, d1
	suqadd v0.16b, v1.16b
	usqadd d0, d1
	sqxtun v0.8b, v1.8h
	sqxtun s0, d1
	aese v0.16b, v1.16b
	aesd v0.16b, v1.16b
	aesmc v0.16b, v1.16b
	aesimc v0.16b, v1.16b
	pmull v0.1q, v1.1d, v2.1d
	pmull2 v0.1q, v1.2d, v2.2d
	sha1c q0, s1, v2.4s
	sha1p q0, s1, v2.4s
	sha1m q0, s1, v2.4s
	sha1h s0, s1
	sha1su0 v0.4s, v1.4s, v2.4s
	sha1su1 v0.4s, v1.4s
	sha256h q0, q1, v2.4s
	sha256h2 q0, q1, v2.4s
	sha256su0 v0.4s, v1.4s
	sha256su1 v0.4s, v1.4s, v2.4s
