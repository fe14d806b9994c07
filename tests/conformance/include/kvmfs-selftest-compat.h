/* kvmfs conformance build: forced into every KVM selftest translation unit (-include).
 * Debian's 6.1 backport of dirty_log_test.c calls TEST_ASSERT_EQ, a name its test_util.h
 * does not have yet; that header has the same check under the older name ASSERT_EQ.
 * Only macros here: expansion happens at the call site, after test_util.h is included,
 * and the file is harmless for the assembler sources too. */
#ifndef KVMFS_SELFTEST_COMPAT_H
#define KVMFS_SELFTEST_COMPAT_H

#ifndef TEST_ASSERT_EQ
#define TEST_ASSERT_EQ(a, b) ASSERT_EQ(a, b)
#endif

#endif
