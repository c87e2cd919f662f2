#!/usr/bin/env python3
"""Talk to offloadd the way grpcurl does: no stubs, no .proto files, only server reflection.

    pip install grpcio grpcio-reflection
    python3 examples/python/reflect.py unix:/tmp/offload.sock     # or 127.0.0.1:50051

grpcurl is a Go binary that Debian 12 does not package; this script is CI's stand-in for
`grpcurl -plaintext ADDR list`, `... describe offload.v1.Offload` and
`grpcurl -d '{...}' ADDR offload.v1.Offload/Ntt`, built on gRPC's own Python reflection client
(an implementation independent of the daemon's tonic one). It lists the services, resolves
every Offload method's types through reflection, calls GetInfo, grpc.health.v1.Health/Check and
an NTT from JSON, and exits non-zero if any answer is wrong.
"""

import base64
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def call(channel, pool, method_path, body_json):
    """One unary call with request and response types known only from reflection."""
    service, method = method_path.rsplit("/", 1)
    m = pool.FindServiceByName(service).FindMethodByName(method)
    req_cls = message_factory.GetMessageClass(m.input_type)
    resp_cls = message_factory.GetMessageClass(m.output_type)
    req = json_format.Parse(body_json, req_cls())
    rpc = channel.unary_unary(
        f"/{service}/{method}",
        request_serializer=lambda r: r.SerializeToString(),
        response_deserializer=resp_cls.FromString,
    )
    return json_format.MessageToDict(rpc(req, timeout=30))


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"
    # On a Unix socket gRPC's C core sends the socket's path as :authority; the daemon takes it.
    channel = grpc.insecure_channel(target)
    db = ProtoReflectionDescriptorDatabase(channel)

    services = sorted(db.get_services())
    print("list:", ", ".join(services))
    for want in ("offload.v1.Offload", "grpc.health.v1.Health"):
        if want not in services:
            sys.exit(f"reflection does not list {want}")

    pool = descriptor_pool.DescriptorPool(db)
    offload = pool.FindServiceByName("offload.v1.Offload")
    methods = {m.name: (m.input_type.full_name, m.output_type.full_name) for m in offload.methods}
    print("describe offload.v1.Offload:")
    for name, (i, o) in sorted(methods.items()):
        print(f"  {name}({i}) returns ({o})")
    for name in ("GetInfo", "UploadBases", "Msm", "MsmStream", "Ntt", "Verify", "VerifyStream"):
        if name not in methods:
            sys.exit(f"reflection does not describe Offload/{name}")

    info = call(channel, pool, "offload.v1.Offload/GetInfo", "{}")
    names = [b["name"] for b in info.get("backends", [])]
    print("GetInfo: version", info.get("version"), "backends", names)
    if "cpu" not in names:
        sys.exit(f"GetInfo lists no cpu backend: {info}")

    health = call(channel, pool, "grpc.health.v1.Health/Check", '{"service": "offload.v1.Offload"}')
    print("Health/Check:", health)
    if health.get("status") != "SERVING":
        sys.exit(f"not serving: {health}")

    # The forward transform of the unit vector e0 is all ones, in any field and ordering.
    e0 = (1).to_bytes(8, "little") + bytes(8 * 7)
    body = (
        '{"field": "NTT_FIELD_GOLDILOCKS", "direction": "NTT_DIRECTION_FORWARD",'
        f' "columns": [{{"packed": "{base64.b64encode(e0).decode()}"}}]}}'
    )
    ntt = call(channel, pool, "offload.v1.Offload/Ntt", body)
    got = base64.b64decode(ntt["columns"][0])
    if got != (1).to_bytes(8, "little") * 8:
        sys.exit(f"Ntt of e0 is not all ones: {got.hex()}")
    print("Ntt (JSON request, reflected types): ok, ran on", ntt["report"]["backend"])
    print("reflection client: all checks passed")


if __name__ == "__main__":
    main()
