#!/usr/bin/env python3
"""Several offloadd daemons as one, from Python: what offload_client::pool and ::shard do in Rust.

    python3 examples/python/pool.py unix:/tmp/a.sock unix:/tmp/b.sock [more addresses...]

Each address is probed with the standard gRPC health check (grpcio-health-checking), then
GetInfo for its queue depth (the load). A BN254 MSM is
sharded by point ranges: every shard is uploaded to two daemons (its handle, the hash of its
points, is the same on both), each shard's MSM runs on its least loaded holder and moves to
the other when that one fails (UNAVAILABLE, RESOURCE_EXHAUSTED), and the partial sums are added
here. A batch of NTT columns is split by column the same way. Answers are checked against
arithmetic done here (see client.py). An address where no daemon answers is tolerated as long
as one holder of each shard is alive: pass one to see the failover.
"""

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from client import R, add, channel, eip196, load_stubs, mul

RETRY = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}


class Member:
    def __init__(self, addr, rpc, pb):
        self.addr, self.pb = addr, pb
        ch = channel(addr)
        self.stub = rpc.OffloadStub(ch)
        self.health = health_pb2_grpc.HealthStub(ch)
        self.healthy, self.load = False, 0

    def probe(self):
        try:
            h = self.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            if h.status != health_pb2.HealthCheckResponse.SERVING:
                self.healthy = False
                return False
            info = self.stub.GetInfo(self.pb.GetInfoRequest(), timeout=2)
            self.healthy = any(b.healthy for b in info.backends)
            self.load = sum(b.queue_depth + b.running for b in info.backends)
        except grpc.RpcError:
            self.healthy = False
        return self.healthy


def ranked(members):
    """Healthy first, least loaded first."""
    return sorted(members, key=lambda m: (not m.healthy, m.load))


def call(members, fn):
    """fn(stub) on the best member; on a failure another daemon may not share, the next."""
    last = None
    for m in ranked(members):
        try:
            return m, fn(m.stub)
        except grpc.RpcError as e:
            if e.code() not in RETRY:
                raise
            m.healthy, last = False, e
    raise last or RuntimeError("no member to call")


def split(n, k):
    k = max(1, min(k, n))
    return [(i * n // k, (i + 1) * n // k) for i in range(k)]


def main():
    addrs = sys.argv[1:]
    if len(addrs) < 2:
        sys.exit("usage: pool.py ADDRESS ADDRESS [ADDRESS...]")
    pb, rpc = load_stubs()
    members = [Member(a, rpc, pb) for a in addrs]
    up = [m.addr for m in members if m.probe()]
    print(f"pool: {len(up)} of {len(members)} daemons healthy: {up}")
    assert len(up) >= 1, "no daemon answers"

    # Points k·G and scalars; the answer (Σ s_i k_i)·G computed here.
    g = (1, 2)
    n = 24
    ks = [7 * i + 3 for i in range(n)]
    ss = [(i * 0x9E3779B97F4A7C15 + 1) % R for i in range(n)]
    points = [eip196(mul(k, g)) for k in ks]
    want = mul(sum(s * k for s, k in zip(ss, ks)) % R, g)

    # Shard i on members i and i+1: a daemon lost costs no shard while its neighbour lives.
    shards = []
    for i, (lo, hi) in enumerate(split(n, len(members))):
        holders, handle = [], None
        for m in (members[i % len(members)], members[(i + 1) % len(members)]):
            header = pb.UploadBasesRequest(header=pb.UploadHeader(
                curve=pb.CURVE_BN254, encoding=pb.EIP196, count=hi - lo, label=f"shard {i}"))
            body = pb.UploadBasesRequest(points=b"".join(points[lo:hi]))
            try:
                info = m.stub.UploadBases(iter([header, body]), timeout=30)
            except grpc.RpcError as e:
                if e.code() not in RETRY:
                    raise
                m.healthy = False
                continue
            assert handle in (None, info.handle), "two daemons hashed a shard differently"
            handle = info.handle
            holders.append(m)
        assert holders, f"shard {i}: no daemon took it"
        shards.append((lo, hi, handle, holders))
    print("shards: " + "; ".join(
        f"[{lo}, {hi}) on {[m.addr for m in hs]}" for lo, hi, _, hs in shards))

    total = None
    for lo, hi, handle, holders in shards:
        scalars = b"".join(s.to_bytes(32, "little") for s in ss[lo:hi])
        m, r = call(holders, lambda stub: stub.Msm(pb.MsmRequest(
            curve=pb.CURVE_BN254, handle=handle, scalars=[pb.Elements(packed=scalars)],
            result_encoding=pb.EIP196), timeout=30))
        part = r.results[0]
        x, y = int.from_bytes(part[:32], "big"), int.from_bytes(part[32:], "big")
        total = add(total, None if part == bytes(64) else (x, y))
    assert total == want, "the sharded MSM differs from the Python reference"
    print(f"sharded msm over {len(shards)} shards: ok")

    # NTT columns split across the healthy daemons; each part retried elsewhere on failure.
    p = 2**64 - 2**32 + 1
    cols = [[(c * 1000003 + i * 0x9E3779B97F4A7C15) % p for i in range(16)] for c in range(5)]
    out = []
    for lo, hi in split(len(cols), len(up)):
        packed = [pb.Elements(packed=b"".join(v.to_bytes(8, "little") for v in c))
                  for c in cols[lo:hi]]
        m, fwd = call(members, lambda stub: stub.Ntt(pb.NttRequest(
            field=pb.NTT_FIELD_GOLDILOCKS, direction=pb.NTT_DIRECTION_FORWARD,
            columns=packed), timeout=30))
        _, back = call(members, lambda stub: stub.Ntt(pb.NttRequest(
            field=pb.NTT_FIELD_GOLDILOCKS, direction=pb.NTT_DIRECTION_INVERSE,
            columns=[pb.Elements(packed=c) for c in fwd.columns]), timeout=30))
        out += [[int.from_bytes(c[i:i + 8], "little") for i in range(0, len(c), 8)]
                for c in back.columns]
    assert out == cols, "forward then inverse across the pool is not the identity"
    print(f"ntt batch of {len(cols)} columns split over {len(up)} daemons: ok")
    print("python pool: all checks passed")


if __name__ == "__main__":
    main()
