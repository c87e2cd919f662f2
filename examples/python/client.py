#!/usr/bin/env python3
"""A small Python client for offloadd, with stubs generated from proto/ by grpcio-tools.

    pip install grpcio grpcio-tools
    python3 examples/python/client.py unix:/tmp/offload.sock     # or 127.0.0.1:50051
    OFFLOAD_TLS_CA=ca.pem OFFLOAD_TOKEN=offload_... python3 examples/python/client.py localhost:50051

With OFFLOAD_TLS_CA (the CA that signed the daemon's certificate) the channel is TLS, with
OFFLOAD_TLS_CLIENT_CERT and OFFLOAD_TLS_CLIENT_KEY for a client certificate and
OFFLOAD_TLS_DOMAIN for the name to check (default localhost); OFFLOAD_TOKEN is sent as
"authorization: Bearer <token>" on every call.

It checks the daemon against arithmetic done here in plain Python: a BN254 MSM (affine
double-and-add on y^2 = x^3 + 3, EIP-196 encoding) and a Goldilocks NTT (the transform of a unit
vector is the powers of a primitive root; forward then inverse is the identity). Exits non-zero
on any mismatch.
"""

import os
import sys
import tempfile

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")


def load_stubs():
    out = tempfile.mkdtemp(prefix="offload-py-")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main([
        "protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out}",
        f"--grpc_python_out={out}", "offload/v1/offload.proto",
    ])
    if rc != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    from offload.v1 import offload_pb2, offload_pb2_grpc  # noqa: E402
    return offload_pb2, offload_pb2_grpc


# BN254 G1 in affine coordinates; None is the point at infinity.
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    (x1, y1), (x2, y2) = a, b
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if a == b:
        m = 3 * x1 * x1 * pow(2 * y1, -1, P) % P
    else:
        m = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (m * m - x1 - x2) % P
    return (x3, (m * (x1 - x3) - y1) % P)


def mul(k, a):
    acc = None
    while k:
        if k & 1:
            acc = add(acc, a)
        a = add(a, a)
        k >>= 1
    return acc


def eip196(pt):
    if pt is None:
        return bytes(64)
    return pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")


class Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
             grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds the API token to every call."""

    def __init__(self, token):
        self.header = ("authorization", f"Bearer {token}")

    def _details(self, d):
        meta = list(d.metadata or []) + [self.header]
        return d._replace(metadata=meta) if hasattr(d, "_replace") else _Details(d, meta)

    def intercept_unary_unary(self, cont, d, req):
        return cont(self._details(d), req)

    def intercept_unary_stream(self, cont, d, req):
        return cont(self._details(d), req)

    def intercept_stream_unary(self, cont, d, reqs):
        return cont(self._details(d), reqs)

    def intercept_stream_stream(self, cont, d, reqs):
        return cont(self._details(d), reqs)


class _Details(grpc.ClientCallDetails):
    def __init__(self, d, metadata):
        self.method, self.timeout, self.credentials = d.method, d.timeout, d.credentials
        self.wait_for_ready, self.compression = d.wait_for_ready, d.compression
        self.metadata = metadata


def channel(addr):
    """Plaintext, or TLS and a token as the environment says (see the module's text)."""
    env = os.environ.get
    ca = env("OFFLOAD_TLS_CA")
    if ca:
        read = lambda p: open(p, "rb").read() if p else None  # noqa: E731
        creds = grpc.ssl_channel_credentials(
            root_certificates=read(ca),
            private_key=read(env("OFFLOAD_TLS_CLIENT_KEY")),
            certificate_chain=read(env("OFFLOAD_TLS_CLIENT_CERT")))
        ch = grpc.secure_channel(addr, creds, options=[
            ("grpc.ssl_target_name_override", env("OFFLOAD_TLS_DOMAIN") or "localhost")])
    else:
        # grpcio's defaults, on a Unix socket too (its path as :authority is taken there).
        ch = grpc.insecure_channel(addr)
    token = env("OFFLOAD_TOKEN")
    return grpc.intercept_channel(ch, Bearer(token)) if token else ch


def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"
    pb, rpc = load_stubs()
    stub = rpc.OffloadStub(channel(addr))

    info = stub.GetInfo(pb.GetInfoRequest())
    names = [b.name for b in info.backends]
    print(f"offloadd {info.version}, backends {names}")
    assert "cpu" in names

    # MSM: bases k_i·G, scalars s_i; expect (Σ s_i k_i)·G, all computed here.
    g = (1, 2)
    ks = [3, 5, 7, 11, 2**200 + 1]
    ss = [R - 1, 2, 0, 12345678901234567890, 2**250]
    bases = b"".join(eip196(mul(k, g)) for k in ks)
    scalars = b"".join(s.to_bytes(32, "little") for s in ss)
    want = mul(sum(s * k for s, k in zip(ss, ks)) % R, g)
    resp = stub.Msm(pb.MsmRequest(
        curve=pb.CURVE_BN254,
        inline=pb.InlineBases(encoding=pb.EIP196, points=bases),
        scalars=[pb.Elements(packed=scalars)],
        result_encoding=pb.EIP196,
    ))
    assert resp.results[0] == eip196(want), "MSM differs from the Python reference"
    print(f"msm: ok on {resp.report.backend}")

    # A scalar >= r is refused, naming where.
    try:
        stub.Msm(pb.MsmRequest(
            curve=pb.CURVE_BN254,
            inline=pb.InlineBases(encoding=pb.EIP196, points=bases),
            scalars=[pb.Elements(packed=scalars[:64] + R.to_bytes(32, "little") + scalars[96:])],
        ))
        sys.exit("a scalar >= r was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
        assert "scalars[0][2]" in e.details(), e.details()
        print(f"bad scalar: {e.code().name}: {e.details()}")

    # NTT over Goldilocks, size 16.
    p = 2**64 - 2**32 + 1
    n = 16
    unit = [0] * n
    unit[1] = 1

    def ntt(col, direction):
        r = stub.Ntt(pb.NttRequest(
            field=pb.NTT_FIELD_GOLDILOCKS, direction=direction,
            columns=[pb.Elements(packed=b"".join(v.to_bytes(8, "little") for v in col))],
        ))
        c = r.columns[0]
        return [int.from_bytes(c[i:i + 8], "little") for i in range(0, len(c), 8)]

    powers = ntt(unit, pb.NTT_DIRECTION_FORWARD)
    w = powers[1]
    assert all(powers[i] == pow(w, i, p) for i in range(n)), "not the powers of one root"
    assert pow(w, n, p) == 1 and pow(w, n // 2, p) == p - 1, "not a primitive 16th root"
    col = [(i * 0x9E3779B97F4A7C15) % p for i in range(n)]
    assert ntt(ntt(col, pb.NTT_DIRECTION_FORWARD), pb.NTT_DIRECTION_INVERSE) == col
    print("ntt: ok")
    print("python client: all checks passed")


if __name__ == "__main__":
    main()
