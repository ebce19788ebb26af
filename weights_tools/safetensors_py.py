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


def read_safetensors(path):
    """Returns ({name: torch.Tensor}, metadata) of a safetensors file with F32/F16/I64/I32/U8 tensors."""
    import numpy as np
    import torch
    np_types = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8,
                "F64": np.float64}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=np_types[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata
