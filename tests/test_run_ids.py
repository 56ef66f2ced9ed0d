"""app.run_ids: each run has one id, with a checksum; altered ids are refused; r1 ids live on."""

import base64
import contextlib
import hashlib
import time
import zlib

import orjson
import pytest

from app.run_ids import (
    _DICTIONARY,
    RunIdError,
    canonical_json,
    decode_legacy_run_id,
    decode_run_id,
    encode_legacy_run_id,
    encode_run_id,
)
from engine.config import normalize_config

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CONFIGS = [
    {},
    {"dataset": "digits", "hidden_layers": [32, 16]},
    {"dataset": "sine", "hidden_layers": [16, 16], "activations": ["tanh", "tanh", "linear"],
     "optimizer": "adam", "learning_rate": 0.01, "seed": 2**32 - 1, "keep_prob": 0.8},
    {"dataset": "spiral", "hidden_layers": [], "batch_size": 32, "l2": 0.7, "noise": 0.05},
]
# ids that the r1 server handed out, copied from it: links on slides hold these
FROZEN_R1_IDS = {
    "r1Gw1DysMQAA": {},
    "r1IxCG-ChYOqBG-EITJMEANjSy0MGCcQc6JFyJCHTcaRkl5A3NLc2Rgt4ANejBqRYz8I0McIQ-AA":
        {"dataset": "digits", "hidden_layers": [128] * 6, "steps": 2000, "optimizer": "adam",
         "keep_prob": 0.5},
}


def carried(config: dict) -> dict:
    """The config as an id carries it: without a null bug (docs/api.md)."""
    return {k: v for k, v in config.items() if not (k == "bug" and v is None)}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def deflate(raw: bytes, zdict=_DICTIONARY) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=zdict)
    return packer.compress(raw) + packer.flush()


def pack_r1(raw: bytes) -> str:
    """The r1 encoder as it was, frozen here: the module must keep reading its ids."""
    return "r1" + b64(deflate(raw))


# a JSON object nested 300 deep: orjson reads 1,024 levels and writes 254
DEEP = b'{"a":' * 300 + b"1" + b"}" * 300


def pack_r2(raw: bytes, prefix: str = "r2") -> str:
    """The r2 format (or r3, a bug run's) as docs/api.md states it, written out
    independently."""
    packed = deflate(raw)
    digest = hashlib.blake2b(packed, digest_size=6, person=f"bpl-run-id-{prefix}".encode()).digest()
    return prefix + b64(packed + digest)


def one_character_edits(run_id: str):
    """Every substitution of one character after the prefix by another of the alphabet,
    every deletion, and every insertion of one alphabet character."""
    for i in range(2, len(run_id)):
        for c in ALPHABET:
            if c != run_id[i]:
                yield run_id[:i] + c + run_id[i + 1:]
        yield run_id[:i] + run_id[i + 1:]
    for i in range(2, len(run_id) + 1):
        for c in ALPHABET:
            yield run_id[:i] + c + run_id[i:]


@pytest.mark.parametrize("raw", CONFIGS)
def test_round_trip(raw):
    config = normalize_config(raw)
    run_id = encode_run_id(config)
    assert decode_run_id(run_id) == config
    assert run_id == pack_r2(canonical_json(carried(config)))  # the documented format
    assert len(run_id) < 120  # fits comfortably in a URL
    assert run_id == encode_run_id(dict(reversed(config.items())))  # key order is irrelevant


def test_ids_differ_when_configs_differ():
    ids = {encode_run_id(normalize_config(raw)) for raw in CONFIGS}
    assert len(ids) == len(CONFIGS)


@pytest.mark.parametrize("raw", CONFIGS)
def test_every_one_character_edit_is_refused(raw):
    """No edit decodes, neither to another run nor to an alias of the same one."""
    run_id = encode_run_id(normalize_config(raw))
    accepted = []
    for edited in one_character_edits(run_id):
        with contextlib.suppress(RunIdError):
            accepted.append((edited, decode_run_id(edited)))
    assert accepted == []


def test_every_substitution_answers_404_through_the_route(client):
    run_id = encode_run_id(normalize_config({}))
    assert client.get(f"/api/runs/{run_id}").status_code == 200
    statuses = {}
    for i in range(2, len(run_id)):
        for c in ALPHABET.replace(run_id[i], ""):
            edited = run_id[:i] + c + run_id[i + 1:]
            status = client.get(f"/api/runs/{edited}", follow_redirects=False).status_code
            statuses[status] = statuses.get(status, 0) + 1
    assert statuses == {404: 63 * (len(run_id) - 2)}


@pytest.mark.parametrize("run_id", [
    "", "r2", "r1Gw1DysMQAA", "Gw1DysMQAA", "r2Gw1D!sMQAA", "r2" + "A" * 3000, "r2====",
    "r2Gw1DysMQA", "r2/../../etc/passwd", "r2 Gw1DysMQAA", "r3" + pack_r2(b"{}")[2:],
    pack_r2(b"[1, 2]"), pack_r2(b'{"b":1,"a":2}'), pack_r2(b'{"a": 1}'), pack_r2(b"not json"),
    pack_r2(b" " * 100000),  # a decompression bomb, correctly checksummed
    "r2" + b64(deflate(b'{"a":1}') + b"\0" * 6),  # no checksum
    pack_r2(b'{"a":1}')[:-1],  # checksum cut short
    # nested 300 deep: orjson reads it, and cannot write it back (it answered 500)
    pack_r2(DEEP),
])
def test_malformed_or_forged_ids_are_rejected(run_id):
    with pytest.raises(RunIdError):
        decode_run_id(run_id)


def test_canonical_json_is_sorted_and_compact():
    assert canonical_json({"b": [1, 2], "a": 0.5}) == b'{"a":0.5,"b":[1,2]}'
    assert orjson.loads(canonical_json(normalize_config({}))) == normalize_config({})


@pytest.mark.parametrize(("run_id", "raw"), FROZEN_R1_IDS.items())
def test_frozen_r1_ids_still_decode(run_id, raw):
    config = normalize_config(raw)
    assert decode_legacy_run_id(run_id) == config
    assert encode_legacy_run_id(config) == run_id == pack_r1(canonical_json(carried(config)))


@pytest.mark.parametrize("raw", CONFIGS)
def test_r1_ids_from_the_old_encoder_decode(raw):
    config = normalize_config(raw)
    assert decode_legacy_run_id(pack_r1(canonical_json(carried(config)))) == config


@pytest.mark.parametrize("run_id", [
    "r1Gw1DysMQAB",  # the default run's r1 id with other padding bits: an alias
    "r1Gw1DysMQAA" + "A",
    pack_r1(b'{"b":1,"a":2}'), pack_r1(b"[1, 2]"), pack_r1(b" " * 100000), pack_r1(DEEP),
    encode_run_id(normalize_config({})),  # an r2 id is not an r1 id
])
def test_r1_aliases_and_forgeries_are_rejected(run_id):
    with pytest.raises(RunIdError):
        decode_legacy_run_id(run_id)


@pytest.mark.parametrize("run_id", [pack_r1(DEEP), pack_r2(DEEP), pack_r2(DEEP, "r3")])
def test_an_id_nested_past_what_json_writes_is_not_found(client, run_id):
    """A config nested 255 to 1,024 deep answered 500 on every run route, with 11 KB of
    traceback in the log."""
    for path in ("", "/summary", "/steps/0"):
        answer = client.get(f"/api/runs/{run_id}{path}", follow_redirects=False)
        assert (answer.status_code, answer.json()) == (404, {"detail": "Run not found"})
    assert client.get(f"/api/run-ids/{run_id}").json()["valid"] is False


@pytest.mark.parametrize("run_id", list(FROZEN_R1_IDS)[:1])
@pytest.mark.parametrize("path", ["", "/summary", "/histograms?steps=0,1", "/steps/3?fields=W",
                                  "/steps/3/gradcheck"])
def test_r1_links_redirect_to_the_r2_id(client, run_id, path):
    r2 = encode_run_id(decode_legacy_run_id(run_id))
    # trained first: a run info read while it trains (its progress) differs from the next
    while client.get(f"/api/runs/{r2}").json()["status"] == "running":
        time.sleep(0.05)
    moved = client.get(f"/api/runs/{run_id}{path}", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/runs/{r2}{path}"
    assert moved.json() == {"detail": f"Moved: this run's id is now {r2}"}
    followed = client.get(f"/api/runs/{run_id}{path}")
    assert followed.status_code == 200
    assert followed.json() == client.get(f"/api/runs/{r2}{path}").json()


@pytest.mark.parametrize(("rest", "location"), [
    ("/steps/%E2%9C%93", "/steps/%E2%9C%93"),  # a header is ASCII: the path encoded again
    ("/steps/%00", "/steps/%00"),
    ("/steps/%20x%22", "/steps/%20x%22"),
    ("/steps/%ff", "/steps/%ff"),  # not UTF-8: as it was sent
    ("/steps/3?fields=Z%2CW&x=%E2%9C%93", "/steps/3?fields=Z%2CW&x=%E2%9C%93"),
    ("/steps/3?x=✓", "/steps/3?x=%E2%9C%93"),  # a raw byte (httptools passes it): encoded
])
def test_an_r1_link_with_any_path_redirects_with_an_ascii_location(client, rest, location):
    """(An r1 link with ✓ in its path had answered 500, and with %00 no answer at all.)"""
    run_id = next(iter(FROZEN_R1_IDS))
    r2 = encode_run_id(decode_legacy_run_id(run_id))
    moved = client.get(f"/api/runs/{run_id}{rest}", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/runs/{r2}{location}"
    assert client.get(f"/api/runs/{run_id}{rest}").status_code in (404, 422)


def test_an_r1_id_spelled_with_escapes_redirects_to_the_r2_id_not_to_itself(client):
    run_id = next(iter(FROZEN_R1_IDS))
    r2 = encode_run_id(decode_legacy_run_id(run_id))
    escaped = run_id[:5] + f"%{ord(run_id[5]):02X}" + run_id[6:]
    moved = client.get(f"/api/runs/{escaped}/summary", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/runs/{r2}/summary"


def test_an_r1_run_info_names_the_r2_id(client):
    info = client.get("/api/runs/r1Gw1DysMQAA").json()
    assert info["id"] == encode_run_id(normalize_config({}))


# r2 ids made before configs had a bug field, copied from that server: they must not change
FROZEN_R2_IDS = {
    "r2Gw1DysMQANwqLqWwNw": {},
    "r2IxSG0LhGC0MzE5JDEJrkCAYhJKZxBqKBngUsEA3xBiLutIkSkobmluZIQWmAGpTgVEh8YAIA4x0PaAkD":
        {"dataset": "digits", "hidden_layers": [32, 16], "optimizer": "adam", "keep_prob": 0.8,
         "l2": 0.1, "batch_size": 64},
}


@pytest.mark.parametrize(("run_id", "raw"), FROZEN_R2_IDS.items())
def test_ids_without_a_bug_are_unchanged(run_id, raw):
    config = normalize_config(raw)
    assert config["bug"] is None
    assert encode_run_id(config) == run_id
    assert decode_run_id(run_id) == config  # the left-out bug comes back as null


@pytest.mark.parametrize("bug", ["missing_1_over_m", "wrong_update_sign"])
def test_a_bug_is_carried_by_an_r3_id(bug):
    """Bug runs' numbers changed (their output gradient is the course's formula exactly):
    their ids are r3, and an r3 id without a bug names no run."""
    config = normalize_config({"bug": bug})
    run_id = encode_run_id(config)
    assert decode_run_id(run_id) == config
    assert run_id == pack_r2(canonical_json(config), "r3")
    assert run_id != encode_run_id(normalize_config({}))
    without = canonical_json(carried(normalize_config({})))
    for forged in (pack_r2(without, "r3"), pack_r2(canonical_json(config), "r2")[:2] + run_id[2:]):
        with pytest.raises(RunIdError):
            decode_run_id(forged)


def test_an_r2_link_of_a_bug_run_redirects_to_its_r3_id(client):
    """So that an old link does not show the changed numbers under its old id."""
    config = normalize_config({"dataset": "moons", "n_samples": 40, "hidden_layers": [3],
                               "steps": 5, "bug": "missing_1_over_m"})
    old, new = pack_r2(canonical_json(config)), encode_run_id(config)
    assert decode_run_id(old) == config and new.startswith("r3")
    moved = client.get(f"/api/runs/{old}/summary", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/runs/{new}/summary"
    assert client.get(f"/api/run-ids/{old}").json()["id"] == new


def test_an_id_that_spells_out_a_null_bug_is_an_alias():
    """A run has one id: the same config with "bug": null written in is refused."""
    spelled_out = pack_r2(canonical_json(normalize_config({})))
    assert b'"bug":null' in canonical_json(normalize_config({}))
    with pytest.raises(RunIdError):
        decode_run_id(spelled_out)


def _spelled(**changes) -> str:
    """An r2 id of the default config with some values spelled another way."""
    config = {**normalize_config({}), **changes}
    del config["bug"]  # null: an id leaves it out
    return pack_r2(orjson.dumps(dict(sorted(config.items()))))


@pytest.mark.parametrize("run_id", [_spelled(steps=100.0), _spelled(hidden_layers=[8.0, 8.0]),
                                    _spelled(test_fraction=-0.0)],
                         ids=["steps 100.0", "widths 8.0", "test_fraction -0.0"])
def test_an_id_that_spells_a_number_another_way_is_an_alias(client, run_id):
    """Equal values are not the same id: a run has one (the contract)."""
    assert client.get(f"/api/runs/{_spelled(steps=100)}").status_code == 200  # spelled as is
    assert client.get(f"/api/runs/{run_id}").status_code == 404


@pytest.mark.parametrize("field", ["noise", "test_fraction", "l2"])
def test_minus_zero_is_zero(client, field):
    """sklearn refused a noise of -0.0 (a 500), and -0.0 gave the run a second id."""
    answer = client.post("/api/runs", json={"dataset": "moons", field: -0.0})
    assert answer.status_code in (200, 201, 202), answer.text
    assert answer.json()["id"] == client.post("/api/runs", json={"dataset": "moons",
                                                                  field: 0.0}).json()["id"]
    assert str(answer.json()["config"][field]) == "0.0"
    assert client.get(f"/api/runs/{answer.json()['id']}/summary").status_code == 200


@pytest.mark.parametrize("extra", [{"beta": 0.5}, {"epsilon": 0.5}, {"beta1": 0.5, "beta2": 0.9}])
def test_a_hyper_parameter_that_gd_does_not_read_gives_the_same_run_and_id(client, extra):
    one = client.post("/api/runs", json={"steps": 5}).json()
    other = client.post("/api/runs", json={"steps": 5, **extra}).json()
    assert other["id"] == one["id"] and other["config"] == one["config"]


def test_an_id_that_kept_an_unread_hyper_parameter_moves_to_the_runs_one_id(client):
    """Ids issued before such values were normalized away keep working: a 308 to the one
    id, as an r1 id's; a value that the optimizer reads is another run."""
    config = normalize_config({"steps": 5})
    canonical, alias = encode_run_id(config), encode_run_id({**config, "beta": 0.5})
    moved = client.get(f"/api/runs/{alias}/summary", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/runs/{canonical}/summary"
    assert client.get(f"/api/runs/{alias}/summary").json() == \
        client.get(f"/api/runs/{canonical}/summary").json()
    check = client.get(f"/api/run-ids/{alias}").json()
    assert check["valid"] is True and check["id"] == canonical
    # not normalized in a field that counts: no run this server issued
    assert client.get(f"/api/runs/{encode_run_id({**config, 'steps': 5.0})}").status_code == 404
    momentum = normalize_config({"steps": 5, "optimizer": "momentum", "beta": 0.5})
    assert client.get(f"/api/runs/{encode_run_id(momentum)}", follow_redirects=False
                      ).status_code == 200


@pytest.mark.parametrize("extra", [{"dataset": "digits", "noise": 0.9},
                                   {"hidden_layers": [], "keep_prob": 0.5}])
def test_an_id_that_kept_a_setting_nothing_reads_moves_to_the_runs_one_id(client, extra):
    """A bundled dataset's noise, and keep_prob without a hidden layer, change no number:
    an id issued with them moves (308) to the run's one id, as one with an unread
    hyper-parameter does."""
    config = normalize_config({"steps": 5, **extra})
    canonical = encode_run_id(config)
    alias = encode_run_id({**config, **extra})
    assert alias != canonical
    moved = client.get(f"/api/runs/{alias}/summary", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/runs/{canonical}/summary"

