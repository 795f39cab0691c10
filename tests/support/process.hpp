#pragma once
// Test support: running the real `teduh` and `teduhd` programs, and a teduhd server process
// on 127.0.0.1 with a free port, stopped with SIGTERM at the end.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace teduh::testing {

inline const std::string kTeduh = TEDUH_BINARY_DIR "/client/teduh";
inline const std::string kTeduhd = TEDUH_BINARY_DIR "/server/teduhd";

struct Run {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  std::string last_line() const {
    std::string t = out;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    auto nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
  }
};

inline std::string slurp_fd(int fd) {
  std::string s;
  std::array<char, 4096> buf{};
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0)
    s.append(buf.data(), static_cast<std::size_t>(n));
  return s;
}

// In a forked child: replaces it with `program args...` (no shell); exit 127 if it cannot.
[[noreturn]] inline void exec_program(const std::string& program, const std::vector<std::string>& args) {
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(program.c_str(), argv.data());
  ::_exit(127);
}

// Runs a program with arguments (no shell), capturing stdout and stderr.
inline Run run_program(const std::string& program, const std::vector<std::string>& args) {
  char out_tmpl[] = "/tmp/teduh-out-XXXXXX";
  char err_tmpl[] = "/tmp/teduh-err-XXXXXX";
  int out_fd = ::mkstemp(out_tmpl);
  int err_fd = ::mkstemp(err_tmpl);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    exec_program(program, args);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Run r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ::lseek(out_fd, 0, SEEK_SET);
  ::lseek(err_fd, 0, SEEK_SET);
  r.out = slurp_fd(out_fd);
  r.err = slurp_fd(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return r;
}

inline Run teduh(const std::vector<std::string>& args) { return run_program(kTeduh, args); }
inline Run teduhd(const std::vector<std::string>& args) { return run_program(kTeduhd, args); }

// A long-running program (`teduhd serve`, `teduh app`) started in the background: its
// stdout on a pipe until it prints its first line (the address it listens on), its stderr
// appended to `log`. pid is -1 when fork failed; the caller stops and reaps it.
struct Started {
  pid_t pid = -1;
  std::string first_line;
};
inline Started start_reading_first_line(const std::string& program,
                                        const std::vector<std::string>& args,
                                        const std::filesystem::path& log) {
  int out[2];
  if (::pipe(out) != 0) return {};
  Started started;
  started.pid = ::fork();
  if (started.pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    ::close(out[0]);
    exec_program(program, args);
  }
  ::close(out[1]);
  char ch = 0;
  while (started.pid > 0 && ::read(out[0], &ch, 1) == 1 && ch != '\n')
    started.first_line.push_back(ch);
  ::close(out[0]);
  return started;
}

// A real teduhd serving a data folder on 127.0.0.1 and a port the OS picked.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { stop(); }

  // Starts `teduhd serve` (the program at `program`); returns false if it did not report
  // its address. log: the file its stderr is appended to.
  bool start(const std::filesystem::path& data, const std::filesystem::path& log,
             const std::string& listen = "127.0.0.1:0", const std::string& program = kTeduhd) {
    Started started = start_reading_first_line(
        program, {"serve", "--data", data.string(), "--listen", listen}, log);
    pid_ = started.pid;
    const std::string& line = started.first_line;
    const std::string prefix = "teduhd listening on ";
    if (line.rfind(prefix, 0) != 0) return false;
    address_ = line.substr(prefix.size());
    return true;
  }

  // SIGTERM and wait; true when teduhd exited cleanly with code 0.
  bool stop() {
    if (pid_ <= 0) return true;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  const std::string& address() const { return address_; }
  // The port of address(), 0 before start().
  std::uint16_t port() const {
    auto colon = address_.rfind(':');
    if (colon == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::stoi(address_.substr(colon + 1)));
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

}  // namespace teduh::testing
