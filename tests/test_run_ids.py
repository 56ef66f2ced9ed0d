"""app.run_ids: ids carry their normalized config; anything else is rejected."""

import base64
import zlib

import orjson
import pytest

from app.run_ids import _DICTIONARY, RunIdError, canonical_json, decode_run_id, encode_run_id
from engine.config import normalize_config

CONFIGS = [
    {},
    {"dataset": "digits", "hidden_layers": [32, 16]},
    {"dataset": "sine", "hidden_layers": [16, 16], "activations": ["tanh", "tanh", "linear"],
     "optimizer": "adam", "learning_rate": 0.01, "seed": 2**32 - 1, "keep_prob": 0.8},
    {"dataset": "spiral", "hidden_layers": [], "batch_size": 32, "l2": 0.7, "noise": 0.05},
]


def pack(raw: bytes, zdict=_DICTIONARY) -> str:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=zdict)
    return "r1" + base64.urlsafe_b64encode(deflate.compress(raw) + deflate.flush()) \
        .rstrip(b"=").decode()


@pytest.mark.parametrize("raw", CONFIGS)
def test_round_trip(raw):
    config = normalize_config(raw)
    run_id = encode_run_id(config)
    assert decode_run_id(run_id) == config
    assert len(run_id) < 120  # fits comfortably in a URL
    assert run_id == encode_run_id(dict(reversed(config.items())))  # key order is irrelevant


def test_ids_differ_when_configs_differ():
    ids = {encode_run_id(normalize_config(raw)) for raw in CONFIGS}
    assert len(ids) == len(CONFIGS)


@pytest.mark.parametrize("run_id", [
    "", "r1", "r2Gw1DysMQAA", "Gw1DysMQAA", "r1Gw1D!sMQAA", "r1" + "A" * 3000, "r1====",
    "r1Gw1DysMQA", "r1Gw1DysMQAAAAAA", "r1/../../etc/passwd", "r1 Gw1DysMQAA",
    pack(b"[1, 2]"), pack(b'{"b":1,"a":2}'), pack(b'{"a": 1}'), pack(b"not json"),
    pack(b" " * 100000),
])
def test_malformed_or_forged_ids_are_rejected(run_id):
    with pytest.raises(RunIdError):
        decode_run_id(run_id)


def test_canonical_json_is_sorted_and_compact():
    assert canonical_json({"b": [1, 2], "a": 0.5}) == b'{"a":0.5,"b":[1,2]}'
    assert orjson.loads(canonical_json(normalize_config({}))) == normalize_config({})
