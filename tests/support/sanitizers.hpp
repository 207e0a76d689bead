// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_SANITIZERS_HPP
#define SENET_TEST_SUPPORT_SANITIZERS_HPP

/* SENET_TEST_ADDRESS_SANITIZER: 1 in a build with AddressSanitizer (the asan preset, which adds
   UndefinedBehaviorSanitizer), else 0; the same on g++ (which defines __SANITIZE_ADDRESS__) and
   clang (which answers __has_feature(address_sanitizer) instead). */
#if defined(__SANITIZE_ADDRESS__)
#define SENET_TEST_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SENET_TEST_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef SENET_TEST_ADDRESS_SANITIZER
#define SENET_TEST_ADDRESS_SANITIZER 0
#endif

#endif
