"""Run ids that carry their config, so any process can serve any id with no shared state.

id = "r1" + base64url(raw deflate(canonical JSON of the normalized config)), no padding.
Canonical JSON: orjson, sorted keys, compact. The deflate dictionary below primes the
compressor with the usual field names and values, which shortens a typical id to ~60
characters. It is part of the "r1" format: never edit it; a new dictionary needs "r2".
"""

import base64
import binascii
import re
import zlib

import orjson

PREFIX = "r1"
ID_PATTERN = re.compile(r"^r1[A-Za-z0-9_-]{1,2048}$")
MAX_CONFIG_BYTES = 8192  # a normalized config is ~400 bytes; this bounds a decompression bomb
_WBITS = -15  # raw deflate: no header or checksum; decode_run_id checks canonical form instead
_DICTIONARY = (
    b'"circles" "xor" "gaussian" "spiral" "flower" "sine" "digits" "iris" "breast_cancer"'
    b' "leaky_relu" "tanh" "linear" "softmax" "categorical_cross_entropy" "mse" "course"'
    b' "xavier" "zeros" "uniform" "momentum" "rmsprop" "adam" [16,16] [32,16] [4] 0.01 0.05'
    b' {"activations":["relu","relu","sigmoid"],"batch_size":null,"beta":0.9,"beta1":0.9,'
    b'"beta2":0.999,"dataset":"moons","epsilon":1e-8,"hidden_layers":[8,8],"init":"he",'
    b'"keep_prob":1.0,"l2":0.0,"learning_rate":0.5,"loss":"binary_cross_entropy",'
    b'"n_samples":400,"noise":0.2,"optimizer":"gd","seed":1,"steps":300,"test_fraction":0.2}'
)


class RunIdError(ValueError):
    """Not an id this server issues: malformed, forged or corrupted."""


def canonical_json(config: dict) -> bytes:
    """The one byte string of a normalized config: sorted keys, no spaces."""
    return orjson.dumps(config, option=orjson.OPT_SORT_KEYS)


def encode_run_id(config: dict) -> str:
    """The id of a normalized config."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, _WBITS, zdict=_DICTIONARY)
    packed = deflate.compress(canonical_json(config)) + deflate.flush()
    return PREFIX + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_run_id(run_id: str) -> dict:
    """The config an id carries (not yet re-validated), or RunIdError."""
    if not ID_PATTERN.match(run_id):
        raise RunIdError("malformed run id")
    text = run_id[len(PREFIX):]
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflate = zlib.decompressobj(_WBITS, zdict=_DICTIONARY)
        raw = inflate.decompress(packed, MAX_CONFIG_BYTES)
        config = orjson.loads(raw)
    except (binascii.Error, zlib.error, orjson.JSONDecodeError) as err:
        raise RunIdError("undecodable run id") from err
    if not inflate.eof or inflate.unconsumed_tail or inflate.unused_data:
        raise RunIdError("truncated or padded run id")
    if not isinstance(config, dict) or canonical_json(config) != raw:
        raise RunIdError("run id is not in canonical form")
    return config
