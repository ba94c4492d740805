#include "driver/JsonLines.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pave::driver {

bool LineBlocks::next(std::string& block) {
  block.clear();
  block.swap(carry_);  // the carry holds no `\n`
  bool newline = false;
  while (!eof_ && (block.size() < kBlock || !newline)) {
    const size_t old = block.size();
    block.resize(old + kBlock);
    ssize_t n;
    do n = ::read(fd_, block.data() + old, kBlock);
    while (n < 0 && errno == EINTR);
    if (n < 0) error_ = std::string("cannot read the standard input: ") + std::strerror(errno);
    if (n <= 0) {
      eof_ = true;
      block.resize(old);
      break;
    }
    block.resize(old + size_t(n));
    newline = newline || std::memchr(block.data() + old, '\n', size_t(n)) != nullptr;
  }
  if (eof_) return !block.empty();  // all that is left; the last line may lack its `\n`
  const size_t cut = block.rfind('\n') + 1;
  carry_.assign(block, cut, std::string::npos);
  block.resize(cut);
  return true;
}

bool BlockWriter::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = std::string("cannot write the standard output: ") + std::strerror(errno);
      buf_.clear();
      return false;
    }
    done += static_cast<size_t>(n);
  }
  buf_.clear();
  return true;
}

unsigned availableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

bool writeOut(BlockWriter& out, std::string& text, std::string& error) {
  out.buffer() += text;
  text.clear();
  if (out.maybeFlush()) return true;
  error = out.error();
  return false;
}

// Blocks in flight, in a ring: this thread reads block k into slot k % size and queues k;
// the workers, and this thread while it waits for the next slot to write, turn queued
// blocks into output; this thread writes the slots' output in order. `jobs` threads
// decide in all: jobs - 1 workers and this one.
class Pipeline {
 public:
  Pipeline(unsigned jobs, const std::function<BlockWork()>& makeWork) : slots_(2 * size_t(jobs) + 2), own_(makeWork()) {
    for (unsigned k = 1; k < jobs; ++k) threads_.emplace_back([this, work = makeWork()] { serve(work); });
  }
  ~Pipeline() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    work_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  bool run(const std::function<bool(std::string&)>& next, BlockWriter& out, std::string& error) {
    uint64_t read = 0, written = 0;
    bool more = true;
    for (;;) {
      while (more && read - written < slots_.size()) {
        Slot& s = slots_[read % slots_.size()];  // free: nobody holds it
        if (!(more = next(s.in))) break;
        {
          std::lock_guard lock(m_);
          queue_.push_back(read++);
        }
        work_.notify_one();
      }
      if (written == read) return true;
      Slot& s = slots_[written % slots_.size()];
      {
        std::unique_lock lock(m_);
        while (!s.ready) {
          if (queue_.empty()) {
            done_.wait(lock);
            continue;
          }
          const uint64_t k = queue_.front();  // decide a block here rather than wait
          queue_.pop_front();
          lock.unlock();
          decide(k, own_);
          lock.lock();
        }
        s.ready = false;
      }
      if (!s.error.empty()) return error = s.error, false;
      if (!writeOut(out, s.out, error)) return false;
      ++written;
    }
  }

 private:
  struct Slot {
    std::string in, out, error;
    bool ready = false;  // guarded by m_
  };

  void decide(uint64_t k, const BlockWork& work) {
    Slot& s = slots_[k % slots_.size()];
    s.error.clear();
    try {
      if (!work(s.in, s.out, s.error) && s.error.empty()) s.error = "evaluation stopped";
    } catch (const std::exception& e) {
      s.error = e.what();
    }
    {
      std::lock_guard lock(m_);
      s.ready = true;
    }
    done_.notify_one();
  }

  void serve(const BlockWork& work) {
    for (;;) {
      uint64_t k;
      {
        std::unique_lock lock(m_);
        work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        k = queue_.front();
        queue_.pop_front();
      }
      decide(k, work);
    }
  }

  std::vector<Slot> slots_;
  BlockWork own_;  // this thread's
  std::mutex m_;
  std::condition_variable work_, done_;
  std::deque<uint64_t> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;  // last: they start once the rest is built
};

}  // namespace

bool runBlocks(LineBlocks& in, BlockWriter& out, unsigned jobs, const std::function<BlockWork()>& makeWork,
               std::string& error) {
  std::deque<std::string> ahead;  // blocks read before deciding how to run
  const std::function<bool(std::string&)> next = [&](std::string& block) {
    if (ahead.empty()) return in.next(block);
    block.swap(ahead.front());
    ahead.pop_front();
    return true;
  };
  bool ok = true;
  if (jobs > 1) {  // threads only for an input longer than one block
    std::string block;
    while (ahead.size() < 2 && in.next(block)) ahead.push_back(std::move(block));
  }
  if (ahead.size() == 2) {
    Pipeline pipeline(jobs, makeWork);
    ok = pipeline.run(next, out, error);
  } else {
    BlockWork work = makeWork();
    std::string block, text;
    while (ok && next(block)) ok = work(block, text, error) && writeOut(out, text, error);
  }
  if (ok && !in.error().empty()) error = in.error(), ok = false;
  return ok;
}

}  // namespace pave::driver
