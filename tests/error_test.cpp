// SPDX-License-Identifier: BSL-1.0
#include <senet/error.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <iterator>
#include <set>
#include <string>
#include <system_error>

#ifdef _WIN32
#include <ws2tcpip.h>
#else
#include <netdb.h>
#endif

namespace {

namespace error = senet::error;

static_assert(std::is_error_code_enum_v<error::net_errc>);
static_assert(std::is_same_v<decltype(error::eof), error::net_errc>);

TEST(error, category_name) {
  EXPECT_STREQ("senet", error::category().name());
}

TEST(error, make_error_code) {
  std::error_code ec = make_error_code(error::eof);  // found by ADL
  EXPECT_EQ(static_cast<int>(error::eof), ec.value());
  EXPECT_EQ(&error::category(), &ec.category());
  EXPECT_EQ("end of file", ec.message());
  EXPECT_TRUE(ec);
  std::error_code implicit = error::operation_aborted;
  EXPECT_EQ(implicit, error::operation_aborted);
  EXPECT_NE(implicit, error::eof);
}

TEST(error, every_value_has_its_own_message) {
  const error::net_errc all[] = {
      error::eof,
      error::operation_aborted,
      error::already_open,
      error::not_open,
      error::not_found,
      error::host_not_found,
      error::host_not_found_try_again,
      error::no_data,
      error::no_recovery,
      error::service_not_found,
      error::socket_type_not_supported,
      error::address_family_not_supported,
      error::write_after_eof,
  };
  std::set<std::string> messages;
  for (auto e : all) {
    std::string m = std::error_code(e).message();
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(std::string::npos, m.find("unknown")) << m;
    messages.insert(m);
  }
  EXPECT_EQ(std::size(all), messages.size());
  EXPECT_EQ("operation aborted", std::error_code(error::operation_aborted).message());
  EXPECT_EQ("host not found", std::error_code(error::host_not_found).message());
  EXPECT_EQ("unknown senet error 999", std::error_code(999, error::category()).message());
}

TEST(error, equivalences_with_errc) {
  EXPECT_EQ(std::error_code(error::operation_aborted), std::errc::operation_canceled);
  EXPECT_EQ(std::error_code(error::not_open), std::errc::bad_file_descriptor);
  EXPECT_EQ(std::error_code(error::address_family_not_supported), std::errc::address_family_not_supported);
  EXPECT_NE(std::error_code(error::eof), std::errc::operation_canceled);
  EXPECT_NE(std::error_code(error::eof), std::error_condition());
  // Writing to a finished sink is a misuse of the sink, not a peer that went away.
  EXPECT_NE(std::error_code(error::write_after_eof), std::errc::broken_pipe);
  // A senet value keeps its own condition when it has no std::errc counterpart.
  EXPECT_EQ(std::error_code(error::eof).default_error_condition(),
            std::error_condition(static_cast<int>(error::eof), error::category()));
}

TEST(error, errno_codes_compare_equal_to_errc) {
  std::error_code ec = senet::detail::errno_code(ECONNREFUSED);
#ifdef _WIN32  // there std::system_category() holds Windows error codes; errno values are generic
  EXPECT_EQ(&std::generic_category(), &ec.category());
#else
  EXPECT_EQ(&std::system_category(), &ec.category());
#endif
  EXPECT_EQ(ECONNREFUSED, ec.value());
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_NE(ec, std::errc::connection_reset);
  EXPECT_EQ(senet::detail::errno_code(EPIPE), std::errc::broken_pipe);
  EXPECT_EQ(senet::detail::errno_code(ETIMEDOUT), std::errc::timed_out);

  errno = EAGAIN;
  std::error_code last = senet::detail::last_error();
  EXPECT_EQ(last, std::errc::resource_unavailable_try_again);
#ifdef _WIN32  // (as above)
  EXPECT_EQ(&std::generic_category(), &last.category());
#else
  EXPECT_EQ(&std::system_category(), &last.category());
#endif
}

TEST(error, gai_errors_translate) {
  EXPECT_FALSE(error::make_gai_error(0, 0));
  EXPECT_EQ(error::make_gai_error(EAI_NONAME, 0), error::host_not_found);
  EXPECT_EQ(error::make_gai_error(EAI_AGAIN, 0), error::host_not_found_try_again);
  EXPECT_EQ(error::make_gai_error(EAI_FAIL, 0), error::no_recovery);
  EXPECT_EQ(error::make_gai_error(EAI_SERVICE, 0), error::service_not_found);
  EXPECT_EQ(error::make_gai_error(EAI_SOCKTYPE, 0), error::socket_type_not_supported);
  EXPECT_EQ(error::make_gai_error(EAI_FAMILY, 0), error::address_family_not_supported);
#ifdef EAI_NODATA
  EXPECT_EQ(error::make_gai_error(EAI_NODATA, 0), error::no_data);
#endif
#ifdef EAI_ADDRFAMILY
  EXPECT_EQ(error::make_gai_error(EAI_ADDRFAMILY, 0), error::address_family_not_supported);
#endif
#ifdef EAI_CANCELED
  EXPECT_EQ(error::make_gai_error(EAI_CANCELED, 0), error::operation_aborted);
#endif
  EXPECT_EQ(error::make_gai_error(EAI_BADFLAGS, 0), std::errc::invalid_argument);
  EXPECT_EQ(error::make_gai_error(EAI_MEMORY, 0), std::errc::not_enough_memory);
#ifndef _WIN32  // Left out on Windows: Winsock has no EAI_OVERFLOW nor EAI_SYSTEM.
  EXPECT_EQ(error::make_gai_error(EAI_OVERFLOW, 0), std::errc::no_buffer_space);
  std::error_code sys = error::make_gai_error(EAI_SYSTEM, EMFILE);
  EXPECT_EQ(sys, std::errc::too_many_files_open);
  EXPECT_EQ(&std::system_category(), &sys.category());
  EXPECT_EQ(error::make_gai_error(EAI_SYSTEM, 0), error::no_recovery) << "a failure never reads as success";
#endif
  EXPECT_EQ(error::make_gai_error(-12345, 0), error::no_recovery);

#ifndef _WIN32  // (no EAI_SYSTEM on Windows, as above)
  errno = ENFILE;
  EXPECT_EQ(error::make_gai_error(EAI_SYSTEM), std::errc::too_many_files_open_in_system);
#endif
}

}  // namespace
