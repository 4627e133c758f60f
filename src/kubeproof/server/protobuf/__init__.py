"""Decode-only support for ``application/vnd.kubernetes.protobuf`` request bodies (typed client-go clients)."""

from kubeproof.server.protobuf.decoder import MAGIC, DecodeError, decode_message, decode_protobuf_body

__all__ = ["MAGIC", "DecodeError", "decode_message", "decode_protobuf_body"]
