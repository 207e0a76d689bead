// SPDX-License-Identifier: BSL-1.0
// Runs examples/http_server.cpp on a free port over a directory made for the test, and a real
// HTTP client against it: curl (Debian package curl), with --compressed for the responses it must
// decompress, checking the bytes of served files and of the streamed (chunked, gzip- or
// deflate-encoded) response, and the error statuses; raw sockets for what curl will not send
// (pipelined and malformed requests). SIGTERM must then stop the server with status 0.
#include <support/example_process.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using child = senet::test::example_process;
using namespace std::chrono_literals;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

std::string lines(unsigned n) {
  std::string s;
  for (unsigned i = 1; i <= n; ++i) {
    s += "line " + std::to_string(i) + " of " + std::to_string(n) + "\n";
  }
  return s;
}

struct reply {
  int status = 0;
  std::string headers;
  std::string body;
};

class http_server : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = senet::test::examples_dir({"http_server"});
    if (!dir_) {
      GTEST_SKIP() << "the example program http_server was not found (set SENET_EXAMPLES_DIR to the folder "
                      "holding it, or build with SENET_BUILD_EXAMPLES=ON)";
    }
    for (const char* c : {"/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"}) {
      if (fs::exists(c)) {
        curl_ = c;
        break;
      }
    }
    if (curl_.empty()) {
      GTEST_SKIP() << "curl is not installed (Debian package curl; scripts/setup installs it)";
    }
    work_ = fs::temp_directory_path() / ("senet_http_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(work_);
    root_ = work_ / "root";
    fs::create_directories(root_ / "sub");
    write_file(root_ / "index.html", "<h1>senet</h1>\n");
    write_file(root_ / "hello.txt", "hello, world\n");
    std::string blob(300000, '\0');
    unsigned x = 12345;
    for (char& c : blob) {
      x = x * 1103515245u + 12345u;
      c = static_cast<char>(x >> 16);
    }
    write_file(root_ / "sub" / "blob.bin", blob);
    write_file(work_ / "secret.txt", "outside the served directory\n");
    fs::create_symlink(work_ / "secret.txt", root_ / "escape.txt");

    server_.emplace(*dir_ / "http_server", std::vector<std::string>{"--root", root_.string(), "--port", "0"},
                    true);
    port_ = senet::test::port_from_line(server_->read_line(10s), "listening on port ");
    ASSERT_FALSE(port_.empty());
  }

  void TearDown() override {
    if (server_ && !HasFatalFailure()) {
      senet::test::stop_with_sigterm(*server_);
    }
    server_.reset();
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + port_ + path; }

  // Runs curl with `args` and the URL of `path`; the status, the response head(s) and the body.
  reply curl(const std::string& path, std::vector<std::string> args = {}) {
    fs::path body = work_ / "body";
    fs::path head = work_ / "head";
    fs::remove(body);
    fs::remove(head);
    args.insert(args.begin(), {"--silent", "--show-error", "--max-time", "30", "--output", body.string(),
                               "--dump-header", head.string(), "--write-out", "%{http_code}\n"});
    args.push_back(url(path));
    child c(curl_, args, true);
    std::optional<std::string> code = c.read_line(40s);
    auto status = c.wait(40s);
    EXPECT_TRUE(status.has_value()) << "curl did not finish";
    EXPECT_EQ(status.value_or(-1), 0) << "curl failed for " << path;
    reply r;
    r.status = code ? std::atoi(code->c_str()) : -1;
    r.headers = read_file(head);
    r.body = read_file(body);
    return r;
  }

  // Sends `request` on a new connection, closes the sending side, and returns all it receives.
  std::string raw_exchange(const std::string& request) {
    int fd = senet::test::connect_loopback(port_);
    EXPECT_GE(fd, 0);
    if (fd < 0) {
      return {};
    }
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    ::shutdown(fd, SHUT_WR);
    std::string in;
    for (;;) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 10000) != 1) {
        ADD_FAILURE() << "no end of the response within 10 s";
        break;
      }
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return in;
  }

  std::optional<fs::path> dir_;
  fs::path curl_;
  fs::path work_;
  fs::path root_;
  std::optional<child> server_;
  std::string port_;
};

bool has_field(const std::string& headers, const std::string& field) {
  return headers.find(field + "\r\n") != std::string::npos;
}

TEST_F(http_server, serves_the_bytes_of_files) {
  reply blob = curl("/sub/blob.bin", {"--compressed"});
  EXPECT_EQ(blob.status, 200);
  EXPECT_TRUE(blob.body == read_file(root_ / "sub" / "blob.bin")) << "the served bytes differ";
  EXPECT_TRUE(has_field(blob.headers, "Content-Length: 300000")) << blob.headers;
  EXPECT_TRUE(has_field(blob.headers, "Content-Type: application/octet-stream")) << blob.headers;

  reply hello = curl("/hello.txt");
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.body, "hello, world\n");

  reply index = curl("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<h1>senet</h1>\n");
  EXPECT_TRUE(has_field(index.headers, "Content-Type: text/html; charset=utf-8")) << index.headers;
}

TEST_F(http_server, streams_a_gzip_compressed_chunked_response) {
  reply r = curl("/stream?n=50000", {"--compressed"});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(has_field(r.headers, "Transfer-Encoding: chunked")) << r.headers;
  EXPECT_TRUE(has_field(r.headers, "Content-Encoding: gzip")) << r.headers;
  EXPECT_TRUE(r.body == lines(50000)) << "the decompressed body differs (" << r.body.size() << " bytes)";
}

TEST_F(http_server, streams_deflate_when_only_deflate_is_accepted) {
  reply r = curl("/stream?n=2000", {"--compressed", "--header", "Accept-Encoding: deflate"});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(has_field(r.headers, "Content-Encoding: deflate")) << r.headers;
  EXPECT_TRUE(r.body == lines(2000));
}

TEST_F(http_server, streams_identity_without_accept_encoding) {
  reply r = curl("/stream?n=3000");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(has_field(r.headers, "Transfer-Encoding: chunked")) << r.headers;
  EXPECT_EQ(r.headers.find("Content-Encoding"), std::string::npos) << r.headers;
  EXPECT_TRUE(r.body == lines(3000));

  // gzip refused with q=0, and an empty stream.
  reply none = curl("/stream?n=0", {"--header", "Accept-Encoding: gzip;q=0"});
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.headers.find("Content-Encoding"), std::string::npos) << none.headers;
  EXPECT_EQ(none.body, "");
}

TEST_F(http_server, http_1_0_gets_a_body_ended_by_the_connection) {
  reply r = curl("/stream?n=1000", {"--http1.0", "--compressed"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.find("Transfer-Encoding"), std::string::npos) << r.headers;
  EXPECT_TRUE(has_field(r.headers, "Connection: close")) << r.headers;
  EXPECT_TRUE(r.body == lines(1000));
}

TEST_F(http_server, head_gives_the_fields_without_the_body) {
  reply r = curl("/sub/blob.bin", {"--head"});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(has_field(r.headers, "Content-Length: 300000")) << r.headers;
  EXPECT_EQ(r.body, r.headers);  // with --head, curl's output is the head: no body byte followed
}

TEST_F(http_server, answers_errors_with_their_status) {
  EXPECT_EQ(curl("/no/such/file").status, 404);
  EXPECT_EQ(curl("/sub").status, 404);  // a directory is not a file
  // Path traversal, plain and percent-encoded, and a symbolic link out of the directory.
  reply traversal = curl("/../secret.txt", {"--path-as-is"});
  EXPECT_EQ(traversal.status, 400);
  EXPECT_EQ(traversal.body.find("outside"), std::string::npos);
  EXPECT_EQ(curl("/sub/%2e%2e/%2e%2e/secret.txt", {"--path-as-is"}).status, 400);
  reply link = curl("/escape.txt");
  EXPECT_EQ(link.status, 404);
  EXPECT_EQ(link.body.find("outside"), std::string::npos);
  EXPECT_EQ(curl("/bad%zzescape").status, 400);
  // Methods and parameters.
  reply post = curl("/hello.txt", {"--data", "x=1"});
  EXPECT_EQ(post.status, 405);
  EXPECT_TRUE(has_field(post.headers, "Allow: GET, HEAD")) << post.headers;
  EXPECT_EQ(curl("/stream?n=abc").status, 400);
  EXPECT_EQ(curl("/stream").status, 400);
  EXPECT_EQ(curl("/stream?n=99999999").status, 400);
  // Sizes: a request body over 1 MiB, a request head over 8 KiB.
  write_file(work_ / "big", std::string(2 << 20, 'b'));
  // Appended, not `"@" + string`: g++ 12 at -O2 warns falsely about that (-Wrestrict).
  std::string big_body = "@";
  big_body += (work_ / "big").string();
  EXPECT_EQ(curl("/hello.txt", {"--data-binary", big_body}).status, 413);
  EXPECT_EQ(curl("/hello.txt", {"--header", "X-Big: " + std::string(9000, 'h')}).status, 431);
}

TEST_F(http_server, keeps_connections_alive_and_answers_pipelined_requests) {
  std::string in = raw_exchange(
      "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /stream?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string expected =
      "HTTP/1.1 200 OK\r\nServer: senet-example\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: 13\r\n\r\nhello, world\n"
      "HTTP/1.1 200 OK\r\nServer: senet-example\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: 13\r\n\r\n"
      "HTTP/1.1 200 OK\r\nServer: senet-example\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Vary: Accept-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n"
      "18\r\nline 1 of 2\nline 2 of 2\n\r\n0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nServer: senet-example\r\nConnection: close\r\nContent-Type: text/html; "
      "charset=utf-8\r\nContent-Length: 15\r\n\r\n<h1>senet</h1>\n";
  EXPECT_EQ(in, expected);
}

TEST_F(http_server, malformed_requests_get_400_and_the_connection_ends) {
  std::string garbage = raw_exchange("GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << garbage;
  EXPECT_NE(garbage.find("Connection: close\r\n"), std::string::npos) << garbage;
  EXPECT_EQ(raw_exchange("GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);  // no Host
  EXPECT_EQ(raw_exchange("GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(raw_exchange("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  EXPECT_EQ(raw_exchange("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                .rfind("HTTP/1.1 501 ", 0),
            0u);
  EXPECT_EQ(raw_exchange("GET / HTTP/2.0\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 505 ", 0), 0u);
  EXPECT_EQ(raw_exchange("GET / HTTP/1.1\nHost: x\n\n").rfind("HTTP/1.1 400 ", 0), 0u);  // bare LF
  // A request body is read and dropped; the next request is answered.
  std::string with_body = raw_exchange(
      "GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
      "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(with_body.find("HTTP/1.1 200 OK"), 0u) << with_body;
  EXPECT_NE(with_body.find("HTTP/1.1 200 OK", 10), std::string::npos) << with_body;
}

TEST_F(http_server, open_connections_end_at_shutdown) {
  int fd = senet::test::connect_loopback(port_);
  ASSERT_GE(fd, 0);
  std::string partial = "GET /hello.txt HTTP/1.1\r\nHo";  // a request that never completes
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL), static_cast<ssize_t>(partial.size()));
  senet::test::stop_with_sigterm(*server_);
  server_.reset();
  pollfd pfd{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "the connection was not closed";
  char byte;
  EXPECT_LE(::recv(fd, &byte, 1, 0), 0);
  ::close(fd);
}

TEST_F(http_server, bad_arguments_are_refused) {
  child missing_root(*dir_ / "http_server", std::vector<std::string>{"--port", "0"}, true);
  EXPECT_EQ(missing_root.wait(10s).value_or(-1), 2);
  child bad_root(*dir_ / "http_server", std::vector<std::string>{"--root", (work_ / "nonexistent").string()},
                 true);
  EXPECT_EQ(bad_root.wait(10s).value_or(-1), 2);
}

}  // namespace
