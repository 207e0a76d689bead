// SPDX-License-Identifier: BSL-1.0
#include <senet/local/basic_endpoint.hpp>

#include <senet/local/stream_protocol.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

using endpoint = senet::local::stream_protocol::endpoint;
using namespace std::literals;

constexpr std::size_t path_offset = offsetof(sockaddr_un, sun_path);
constexpr std::size_t sun_path_size = sizeof(sockaddr_un::sun_path);

static_assert(std::is_same_v<endpoint, senet::local::basic_endpoint<senet::local::stream_protocol>>);
static_assert(endpoint::capacity() == sizeof(sockaddr_un));
static_assert(std::is_trivially_copyable_v<endpoint>);

TEST(local_endpoint, default_is_unnamed) {
  endpoint ep;
  EXPECT_TRUE(ep.is_unnamed());
  EXPECT_FALSE(ep.is_abstract());
  EXPECT_EQ("", ep.path());
  EXPECT_EQ(path_offset, ep.size());
  EXPECT_EQ(AF_UNIX, ep.data()->sa_family);
  EXPECT_EQ(senet::local::stream_protocol(), ep.protocol());
}

TEST(local_endpoint, filesystem_path) {
  endpoint ep("/tmp/senet.sock");
  EXPECT_EQ("/tmp/senet.sock", ep.path());
  EXPECT_EQ("/tmp/senet.sock", ep.to_string());
  EXPECT_FALSE(ep.is_abstract());
  EXPECT_FALSE(ep.is_unnamed());
  EXPECT_EQ(path_offset + 15 + 1, ep.size()) << "the NUL terminator is counted";
  const auto* sun = reinterpret_cast<const sockaddr_un*>(ep.data());
  EXPECT_EQ(AF_UNIX, sun->sun_family);
  EXPECT_STREQ("/tmp/senet.sock", sun->sun_path);
}

TEST(local_endpoint, abstract_name) {
  endpoint ep("\0senet"sv);
  EXPECT_TRUE(ep.is_abstract());
  EXPECT_EQ("\0senet"sv, ep.path());
  EXPECT_EQ("@senet", ep.to_string());
  EXPECT_EQ(path_offset + 6, ep.size()) << "no terminator: every byte is part of the name";
  // Bytes after the first, NUL included, are significant.
  endpoint with_nul("\0a\0b"sv);
  EXPECT_EQ("\0a\0b"sv, with_nul.path());
  EXPECT_NE(with_nul, endpoint("\0a"sv));
  // The empty abstract name is just the NUL.
  endpoint empty_abstract("\0"sv);
  EXPECT_TRUE(empty_abstract.is_abstract());
  EXPECT_EQ(path_offset + 1, empty_abstract.size());
}

TEST(local_endpoint, longest_names_fit) {
  std::string path(sun_path_size - 1, 'p');
  endpoint ep(path);
  EXPECT_EQ(path, ep.path());
  EXPECT_EQ(sizeof(sockaddr_un), ep.size());
  std::string abstract(sun_path_size, 'a');
  abstract[0] = '\0';
  endpoint ab(abstract);
  EXPECT_EQ(abstract, ab.path());
  EXPECT_EQ(sizeof(sockaddr_un), ab.size());
}

TEST(local_endpoint, too_long_is_an_error_not_a_truncation) {
  std::string path(sun_path_size, 'p');
  std::error_code ec;
  endpoint ep(path, ec);
  EXPECT_EQ(ec, std::errc::filename_too_long);
  EXPECT_TRUE(ep.is_unnamed());
  EXPECT_THROW(endpoint{path}, std::system_error);

  std::string abstract(sun_path_size + 1, 'a');
  abstract[0] = '\0';
  endpoint ab(abstract, ec);
  EXPECT_EQ(ec, std::errc::filename_too_long);
  EXPECT_THROW(endpoint{abstract}, std::system_error);

  endpoint keep("/keep");
  keep.path(path, ec);
  EXPECT_EQ(ec, std::errc::filename_too_long);
  EXPECT_EQ("/keep", keep.path()) << "a failed path() changes nothing";
  EXPECT_THROW(keep.path(path), std::system_error);
}

TEST(local_endpoint, nul_inside_a_path_is_an_error) {
  std::error_code ec;
  endpoint ep("/tmp/a\0b"sv, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  EXPECT_TRUE(ep.is_unnamed());
  EXPECT_THROW(endpoint("/tmp/\0"sv), std::system_error);
}

TEST(local_endpoint, empty_path_is_unnamed) {
  endpoint ep("/x");
  ep.path("");
  EXPECT_TRUE(ep.is_unnamed());
  EXPECT_EQ(endpoint(), ep);
}

TEST(local_endpoint, resize) {
  endpoint ep;
  // What a kernel writes: a path, possibly without the NUL in the length.
  auto* sun = reinterpret_cast<sockaddr_un*>(ep.data());
  std::memcpy(sun->sun_path, "/run/x", 6);
  ep.resize(path_offset + 6);
  EXPECT_EQ("/run/x", ep.path());
  ep.resize(path_offset + 7);
  EXPECT_EQ("/run/x", ep.path());
  ep.resize(path_offset);
  EXPECT_TRUE(ep.is_unnamed());
  std::error_code ec;
  ep.resize(std::size_t{endpoint::capacity()} + 1, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  EXPECT_THROW(ep.resize(std::size_t{endpoint::capacity()} + 1), std::system_error);
  ep.resize(endpoint::capacity(), ec);
  EXPECT_FALSE(ec);
}

TEST(local_endpoint, comparisons_hash_stream) {
  endpoint a("/a"), b("/b"), abstract_a("\0a"sv);
  EXPECT_EQ(a, endpoint("/a"));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_NE(a, abstract_a);
  std::unordered_set<endpoint> set{a, b, abstract_a, endpoint("/a"), endpoint()};
  EXPECT_EQ(4u, set.size());
  std::ostringstream os;
  os << a << ' ' << abstract_a;
  EXPECT_EQ("/a @a", os.str());
}

class temp_dir {
 public:
  temp_dir() {
    char tmpl[] = "/tmp/senet-local-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    EXPECT_NE(nullptr, p);
    path_ = p != nullptr ? p : "";
  }
  ~temp_dir() { ::rmdir(path_.c_str()); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

endpoint bound_name(const endpoint& ep) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(0, ::bind(fd, ep.data(), ep.size())) << std::strerror(errno);
  endpoint got;
  socklen_t len{got.capacity()};
  EXPECT_EQ(0, ::getsockname(fd, got.data(), &len));
  got.resize(len);
  ::close(fd);
  return got;
}

TEST(local_endpoint, round_trips_through_real_sockets) {
  temp_dir dir;
  endpoint path(dir.path() + "/s");
  EXPECT_EQ(path, bound_name(path));
  ::unlink((dir.path() + "/s").c_str());

  std::string name = "\0senet-test-"s + std::to_string(::getpid());
  endpoint abstract(name);
  endpoint got = bound_name(abstract);
  EXPECT_EQ(abstract, got);
  EXPECT_TRUE(got.is_abstract());

  int fds[2];
  ASSERT_EQ(0, ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
  endpoint unnamed("/not-this");
  socklen_t len{unnamed.capacity()};
  ASSERT_EQ(0, ::getsockname(fds[0], unnamed.data(), &len));
  unnamed.resize(len);
  EXPECT_TRUE(unnamed.is_unnamed());
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
