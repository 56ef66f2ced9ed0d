"""Run ids that carry their config, so any process can serve any id with no shared state.

id = "r2" + base64url(packed + checksum), no padding, where
  packed   = raw deflate(canonical JSON of the normalized config), primed with _DICTIONARY;
  checksum = the first 6 bytes (48 bits) of BLAKE2b(packed), personalized for run ids.
Canonical JSON: orjson, sorted keys, compact; a null `bug` is left out (ids made before
the field existed stay valid and unchanged) and decoding adds it back. Each run has
exactly one id: decoding re-encodes and requires the very same string, which also refuses
base64's padding-bit aliases. An altered id fails the checksum (a one-in-2⁴⁸ chance to
pass) and answers 404.

"r3" ids are r2's format for a config with a `bug`, checksummed with their own
personalization: such runs' numbers changed on 7 December 2026, when a bug run's output
gradient dA[L] became the course's formula exactly (it had moved outputs within 1e-15 of 0
or 1), so an r2 id of a bug config is read and the routes redirect it to the r3 id, rather
than show other numbers under the old link. Runs without a bug kept their numbers and
their r2 ids.

"r1" ids, the first format (no checksum), are still read, so that links on slides
survive: `decode_legacy_run_id` gives their config and the routes redirect to the run's
id. The dictionary is part of every format: never edit it; a new dictionary needs "r4".
"""

import base64
import binascii
import hashlib
import re
import zlib

import orjson

PREFIX, BUG_PREFIX, LEGACY_PREFIX = "r2", "r3", "r1"
ID_PATTERN = re.compile(r"^r[123][A-Za-z0-9_-]{1,2048}$")
CHECKSUM_BYTES = 6
# BLAKE2b personalization: these digests mean nothing elsewhere, nor one format's in another
_PERSON = {PREFIX: b"bpl-run-id-r2", BUG_PREFIX: b"bpl-run-id-r3"}
MAX_CONFIG_BYTES = 8192  # a normalized config is ~400 bytes; this bounds a decompression bomb
_WBITS = -15  # raw deflate: no header or checksum of its own
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
    """Not an id this server issues: malformed, forged, altered or not canonical."""


def canonical_json(config: dict) -> bytes:
    """The one byte string of a normalized config: sorted keys, no spaces."""
    return orjson.dumps(config, option=orjson.OPT_SORT_KEYS)


def _checksum(packed: bytes, prefix: str) -> bytes:
    return hashlib.blake2b(packed, digest_size=CHECKSUM_BYTES, person=_PERSON[prefix]).digest()


def _prefix(config: dict) -> str:
    """The format of a config's id: r3 for a bug run, r2 for any other."""
    return BUG_PREFIX if config.get("bug") is not None else PREFIX


def _checksummed(packed: bytes, prefix: str) -> str:
    return prefix + _base64(packed + _checksum(packed, prefix))


def _packed_fields(config: dict) -> dict:
    """The config as an id carries it: a null bug is left out, so that the ids of configs
    made before the bug field existed stay the same."""
    return {k: v for k, v in config.items() if not (k == "bug" and v is None)}


def _unpacked_fields(config: dict) -> dict:
    """The config an id carries, a left-out bug added back as null (_packed_fields)."""
    return config if "bug" in config else {**config, "bug": None}


def _pack(config: dict) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, _WBITS, zdict=_DICTIONARY)
    return deflate.compress(canonical_json(_packed_fields(config))) + deflate.flush()


def _base64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_run_id(config: dict) -> str:
    """The id of a normalized config."""
    return _checksummed(_pack(config), _prefix(config))


def encode_legacy_run_id(config: dict) -> str:
    """The r1 id of a normalized config: the first format, frozen (it tells r1 ids apart
    from their aliases; the server no longer hands these out)."""
    return LEGACY_PREFIX + _base64(_pack(config))


def _unbase64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise RunIdError("undecodable run id") from err


def _unpack(packed: bytes) -> dict:
    """The config in a deflate stream, which must be canonical JSON of an object."""
    try:
        inflate = zlib.decompressobj(_WBITS, zdict=_DICTIONARY)
        raw = inflate.decompress(packed, MAX_CONFIG_BYTES)
        config = orjson.loads(raw)
    except (zlib.error, orjson.JSONDecodeError) as err:
        raise RunIdError("undecodable run id") from err
    if not inflate.eof or inflate.unconsumed_tail or inflate.unused_data:
        raise RunIdError("truncated or padded run id")
    if not isinstance(config, dict):
        raise RunIdError("run id is not in canonical form")
    try:
        canonical = canonical_json(config)
    except TypeError as err:  # orjson reads 1,024 levels of nesting and writes 254
        raise RunIdError("run id is not in canonical form") from err
    if canonical != raw:
        raise RunIdError("run id is not in canonical form")
    return _unpacked_fields(config)


def _split(run_id: str, prefix: str) -> str:
    if not ID_PATTERN.match(run_id) or not run_id.startswith(prefix):
        raise RunIdError("malformed run id")
    return run_id[len(prefix):]


def decode_run_id(run_id: str) -> dict:
    """The config an r2 or r3 id carries (not yet re-validated), or RunIdError. An r2 id of
    a bug config is read (encode_run_id gives its r3 id, where the routes redirect it); an
    r3 id of a config without a bug is no run's id."""
    prefix = run_id[:2]
    if prefix not in _PERSON:
        raise RunIdError("malformed run id")
    data = _unbase64(_split(run_id, prefix))
    packed, checksum = data[:-CHECKSUM_BYTES], data[-CHECKSUM_BYTES:]
    if len(data) <= CHECKSUM_BYTES or _checksum(packed, prefix) != checksum:
        raise RunIdError("run id fails its checksum")
    config = _unpack(packed)
    if _checksummed(_pack(config), prefix) != run_id or \
            (prefix == BUG_PREFIX and _prefix(config) != BUG_PREFIX):
        raise RunIdError("run id is not the run's one id")
    return config


def decode_legacy_run_id(run_id: str) -> dict:
    """The config an r1 id carries, or RunIdError. Only the id the r1 encoder gave is
    read, not its padding-bit aliases; r1 has no checksum, so an altered r1 id may still
    name another valid run (one reason for r2)."""
    config = _unpack(_unbase64(_split(run_id, LEGACY_PREFIX)))
    if encode_legacy_run_id(config) != run_id:
        raise RunIdError("run id is not the run's one id")
    return config


def is_legacy(run_id: str) -> bool:
    return run_id.startswith(LEGACY_PREFIX)
