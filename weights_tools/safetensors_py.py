"""Minimal safetensors writer for the repository's Python scripts (fixtures, demo training): an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensor data. Needs only torch."""
import json
import struct

DTYPES = {"torch.float32": "F32", "torch.int64": "I64", "torch.uint8": "U8", "torch.int32": "I32",
          "torch.float16": "F16", "torch.float64": "F64"}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, torch.Tensor); metadata: dict of str -> str."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[str(t.dtype)], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
