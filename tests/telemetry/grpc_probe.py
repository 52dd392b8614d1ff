"""Calls one OTLP/gRPC method with raw bytes from stdin, as a broken or
hostile client would, and prints `CODE` and the answer: the status details
on failure, the response bytes in hex on success.

Usage: grpc_probe.py HOST:PORT /package.Service/Method < body"""
import sys

import grpc

target, method = sys.argv[1], sys.argv[2]
body = sys.stdin.buffer.read()
with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", -1)]) as channel:
    call = channel.unary_unary(method)  # no serializers: bytes in, bytes out
    try:
        answer = call(body, timeout=20)
        print("OK")
        print(answer.hex())
    except grpc.RpcError as error:
        print(error.code().name)
        print(error.details())
