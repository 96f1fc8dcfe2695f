// Communicator over libtorch's c10d: ProcessGroupGloo (CPU tensors) and, in CUDA builds with
// NCCL headers, ProcessGroupNCCL. The backend classes are used directly rather than through
// c10d::ProcessGroup because the class hierarchy changed in torch 2.0 (ProcessGroupGloo derives
// from ProcessGroup in 1.13 and from Backend in 2.x) while the collective signatures did not.
// The c10d headers are heavy: this is the only TU that includes them.
#include "dist/communicator.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef LONGROPE_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef LONGROPE_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <mutex>
#include <sstream>
#include <vector>

namespace longrope {
namespace {

c10d::ReduceOp ToC10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return c10d::ReduceOp::SUM;
    case ReduceOp::kMax: return c10d::ReduceOp::MAX;
    case ReduceOp::kMin: return c10d::ReduceOp::MIN;
  }
  return c10d::ReduceOp::SUM;
}

// The transport's message alone says little ("Connection closed by peer"): name the group,
// the operation and the likely causes.
[[noreturn]] void Rethrow(const std::exception& e, const std::string& what, const std::string& backend, int rank,
                          int size, std::chrono::milliseconds timeout) {
  std::ostringstream msg;
  msg << "process group (" << backend << ", rank " << rank << " of " << size << "): " << what
      << " failed: " << e.what() << " (a peer process exited or did not answer within the group's timeout of "
      << timeout.count() << " ms)";
  throw std::runtime_error(msg.str());
}

template <class Work>
class C10dPending : public PendingOp {
 public:
  C10dPending(c10::intrusive_ptr<Work> work, std::function<void(const std::exception&)> on_error)
      : work_(std::move(work)), on_error_(std::move(on_error)) {}
  void Wait() override {
    try {
      work_->wait();
    } catch (const std::exception& e) {
      on_error_(e);
    }
  }

 private:
  c10::intrusive_ptr<Work> work_;
  std::function<void(const std::exception&)> on_error_;
};

// A backend this build lacks: say how to get it.
[[noreturn]] void ThrowMissingBackend(const std::string& backend) {
  if (backend == "gloo") {
    throw std::runtime_error(
        "this build of longrope has no Gloo process group: gloo's headers were missing when it was built "
        "(on Debian/Ubuntu `apt-get install -y libgloo-dev`, then `npm run build`)");
  }
  throw std::runtime_error(
      "this build of longrope has no NCCL process group (it needs a CUDA build of libtorch and NCCL's headers); "
      "use backend 'gloo' on CPU");
}

// A group of opts.backend over an existing store (the job's TCPStore, or a prefix of it for a
// subgroup). Blocks until opts.size ranks have connected.
std::shared_ptr<Communicator> Connect(const c10::intrusive_ptr<c10d::Store>& store, const CommunicatorOptions& opts);

template <class Group>
class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group,
                   const CommunicatorOptions& opts, at::Device device)
      : store_(std::move(store)), group_(std::move(group)), opts_(opts), device_(device) {}

  int rank() const override { return opts_.rank; }
  int size() const override { return opts_.size; }
  std::string backend() const override { return opts_.backend; }
  at::Device device() const override { return device_; }

  void AllReduce(at::Tensor& tensor, ReduceOp op) override {
    Run("allreduce", [&] {
      std::vector<at::Tensor> t{tensor};
      c10d::AllreduceOptions o;
      o.reduceOp = ToC10d(op);
      group_->allreduce(t, o)->wait();
    });
  }

  void Broadcast(at::Tensor& tensor, int root) override {
    Run("broadcast", [&] {
      std::vector<at::Tensor> t{tensor};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      group_->broadcast(t, o)->wait();
    });
  }

  at::Tensor AllGather(const at::Tensor& tensor) override {
    at::Tensor out;
    Run("allgather", [&] {
      std::vector<at::Tensor> in{tensor.contiguous()};
      std::vector<std::vector<at::Tensor>> gathered(1);
      for (int i = 0; i < opts_.size; ++i) gathered[0].push_back(at::empty_like(in[0]));
      group_->allgather(gathered, in)->wait();
      out = at::stack(gathered[0]);
    });
    return out;
  }

  void Barrier() override {
    Run("barrier", [&] { group_->barrier(c10d::BarrierOptions())->wait(); });
  }

  std::unique_ptr<PendingOp> Send(at::Tensor& tensor, int to, int tag) override {
    std::unique_ptr<PendingOp> op;
    Run("send", [&] {
      std::vector<at::Tensor> t{tensor};
      op = Pending(group_->send(t, to, tag), "send to rank " + std::to_string(to));
    });
    return op;
  }

  std::unique_ptr<PendingOp> Recv(at::Tensor& tensor, int from, int tag) override {
    std::unique_ptr<PendingOp> op;
    Run("recv", [&] {
      std::vector<at::Tensor> t{tensor};
      op = Pending(group_->recv(t, from, tag), "receive from rank " + std::to_string(from));
    });
    return op;
  }

  std::shared_ptr<Communicator> Split(const std::string& prefix, const CommunicatorOptions& sub) override {
    TORCH_CHECK(sub.size >= 1 && sub.size <= opts_.size && sub.rank >= 0 && sub.rank < sub.size, "subgroup rank ",
                sub.rank, " of ", sub.size, " does not fit a group of ", opts_.size);
    // The subgroup's keys live under `prefix` in the job's store, apart from every other group's.
    auto store = c10::make_intrusive<c10d::PrefixStore>(prefix, store_);
    CommunicatorOptions o = sub;
    o.master_addr = opts_.master_addr;
    o.master_port = opts_.master_port;
    return Connect(store, o);
  }

 private:
  template <class Work>
  std::unique_ptr<PendingOp> Pending(c10::intrusive_ptr<Work> work, const std::string& what) {
    return std::make_unique<C10dPending<Work>>(std::move(work), [this, what](const std::exception& e) {
      Rethrow(e, what, opts_.backend, opts_.rank, opts_.size, opts_.timeout);
    });
  }

  template <class Body>
  void Run(const char* what, Body&& body) {
    // One collective at a time per group, in the order the callers issue them.
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      body();
    } catch (const std::exception& e) {
      Rethrow(e, what, opts_.backend, opts_.rank, opts_.size, opts_.timeout);
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  CommunicatorOptions opts_;
  at::Device device_;
  std::mutex mutex_;
};

c10::intrusive_ptr<c10d::Store> Rendezvous(const CommunicatorOptions& opts) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(opts.master_port);
  so.isServer = opts.rank == 0;
  so.numWorkers = static_cast<std::size_t>(opts.size);
  so.waitWorkers = true;
  so.timeout = opts.timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(opts.master_addr, so);
  } catch (const std::exception& e) {
    std::ostringstream msg;
    msg << "process group rendezvous (rank " << opts.rank << " of " << opts.size << ") at " << opts.master_addr << ":"
        << opts.master_port << " failed: " << e.what() << " (is rank 0 running, MASTER_ADDR/MASTER_PORT the same "
        << "on every rank, and the port free on rank 0?)";
    throw std::runtime_error(msg.str());
  }
}

std::shared_ptr<Communicator> Connect(const c10::intrusive_ptr<c10d::Store>& store, const CommunicatorOptions& opts) {
  if (opts.backend == "gloo") {
#ifdef LONGROPE_WITH_GLOO
    auto go = c10d::ProcessGroupGloo::Options::create(opts.timeout);
    // Bind to the address the peers reach the store through: loopback for one machine.
    go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(opts.master_addr));
    go->threads = 1;  // we issue one collective at a time
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    try {
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, opts.rank, opts.size, go);
    } catch (const std::exception& e) {
      Rethrow(e, "connecting the Gloo group", "gloo", opts.rank, opts.size, opts.timeout);
    }
    return std::make_shared<C10dCommunicator<c10d::ProcessGroupGloo>>(store, group, opts, at::Device(at::kCPU));
#else
    ThrowMissingBackend("gloo");
#endif
  }
  if (opts.backend == "nccl") {
#ifdef LONGROPE_WITH_NCCL
    auto no = c10d::ProcessGroupNCCL::Options::create();
    no->timeout = opts.timeout;
    c10::intrusive_ptr<c10d::ProcessGroupNCCL> group;
    try {
      group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, opts.rank, opts.size, no);
    } catch (const std::exception& e) {
      Rethrow(e, "creating the NCCL group", "nccl", opts.rank, opts.size, opts.timeout);
    }
    return std::make_shared<C10dCommunicator<c10d::ProcessGroupNCCL>>(
        store, group, opts, at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(opts.device_index)));
#else
    ThrowMissingBackend("nccl");
#endif
  }
  throw std::invalid_argument("unknown process group backend '" + opts.backend + "' (expected 'gloo' or 'nccl')");
}

}  // namespace

bool CommunicatorHasGloo() {
#ifdef LONGROPE_WITH_GLOO
  return true;
#else
  return false;
#endif
}

bool CommunicatorHasNccl() {
#ifdef LONGROPE_WITH_NCCL
  return true;
#else
  return false;
#endif
}

std::shared_ptr<Communicator> CreateCommunicator(const CommunicatorOptions& opts) {
  TORCH_CHECK(opts.size >= 1 && opts.rank >= 0 && opts.rank < opts.size, "rank ", opts.rank, " outside [0, ",
              opts.size, ")");
  if (opts.backend != "gloo" && opts.backend != "nccl") {
    throw std::invalid_argument("unknown process group backend '" + opts.backend + "' (expected 'gloo' or 'nccl')");
  }
  // Say a backend is missing before waiting for a rendezvous.
  if (!(opts.backend == "gloo" ? CommunicatorHasGloo() : CommunicatorHasNccl())) ThrowMissingBackend(opts.backend);
  return Connect(Rendezvous(opts), opts);
}

}  // namespace longrope
