"""Every server setting, typed, in one place; each can be set as an env var BPL_<NAME>."""

from functools import lru_cache

from pydantic import DirectoryPath, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 2**20


class Settings(BaseSettings):
    """Server limits and knobs. Defaults admit every config inside docs/api.md's ranges."""

    model_config = SettingsConfigDict(env_prefix="BPL_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # one BLAS thread makes every process compute bit-identical runs
    blas_threads: int = Field(1, ge=1, le=256)

    max_hidden_layers: int = Field(6, ge=1)
    max_width: int = Field(128, ge=1)
    max_samples: int = Field(2000, ge=20)
    max_steps: int = Field(2000, ge=1)
    # estimated flops of a whole run (engine.work_estimate.run_flops). The largest valid run,
    # 2-D data with 2,000 samples, test_fraction 0, 6 x 128 hidden, 2,000 full-batch steps,
    # costs 2000 steps x 82,304 weights x (6 x 2000 + 2 x 2000) = 2.63e12, and with an
    # active bug (two backward passes a step) x (10 x 2000 + 2 x 2000) = 3.96e12: every
    # config inside the contract's ranges is served (CONTRACT §4)
    compute_budget: float = Field(4.0e12, gt=0)

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # a request body must arrive within this: a client that sends it slowly held 64 KiB and a
    # connection for as long as it liked (3,000 stalled ones took 185 MB)
    body_seconds: float = Field(30.0, gt=0, le=3600)
    # a tensor above this many cells is block-averaged and labelled "downsampled_from";
    # 2**18 keeps every tensor of a run inside the ranges (at most 128 x 2000) at full size
    max_tensor_cells: int = Field(2**18, ge=1)
    # cells of one step answer, counted from shapes before it is built; beyond it, a 422
    # names max_cells, layers and fields. The page's biggest request, the dropout masks D
    # of 6 hidden layers of 128 on 2,000 examples, is 1,536,000 cells (~6 MB of JSON: 0
    # or 1/keep_prob); a whole step of that run is ~7.4 million cells (~120 MB)
    max_answer_cells: int = Field(2**21, ge=1)
    # answers over big_answer_cells (~5 MB of JSON) are built at most big_answers_at_once
    # at a time per process, and gradient checks computed as many at once, in turns of
    # their own; others wait up to big_answer_wait_seconds, then answer 503
    big_answer_cells: int = Field(2**18, ge=1)
    big_answers_at_once: int = Field(2, ge=1, le=64)
    big_answer_wait_seconds: float = Field(10.0, ge=0, le=600)
    cache_bytes: int = Field(512 * MIB, ge=0)
    # training threads per process: a long run then delays other runs (a new visitor's
    # default run) only when every thread is busy
    train_threads: int = Field(2, ge=1, le=64)
    # while the process answers requests, heavy runs training and big answers being built
    # take this many cores of CPU together, per process (app.bulk_share): a class's clicks
    # stay quick beside them. At the machine's core count or more, they are not paced
    bulk_cores: float = Field(0.1, gt=0, le=256)
    # runs waiting for a training thread; older waiting ones are dropped
    max_queued_runs: int = Field(64, ge=1)
    # admission (app.admission, docs/deploy.md): runs queued or training at once per client
    # (the page's cookie; without it, its address) and per address (a classroom behind one
    # NAT is one address); beyond them, 429. Caps are per process: see docs/deploy.md
    max_runs_per_client: int = Field(3, ge=1)
    max_runs_per_address: int = Field(64, ge=1)
    # runs estimated (engine.work_estimate.run_flops) at most this many flops take the fast
    # lane, ahead of heavy ones; 3e9 trains in about half a second, and takes every
    # dataset's default run (digits': 2.4e9) and every lesson's. 0: no fast lane
    fast_lane_flops: float = Field(3e9, ge=0)
    # training nobody asked about for this long is cancelled. The page asks every 250 ms,
    # but a browser wakes a page hidden for 5 minutes once a minute
    idle_cancel_seconds: float = Field(90.0, gt=0)
    # proxies whose X-Forwarded-For uvicorn trusts for the client address (its
    # --forwarded-allow-ips); None: uvicorn's default, $FORWARDED_ALLOW_IPS or loopback
    forwarded_allow_ips: str | None = None
    # serialized step answers of finished runs kept per process, so that a class opening
    # the same steps is served from memory; 0 turns it off
    answer_cache_bytes: int = Field(64 * MIB, ge=0)
    sync_seconds: float = Field(1.0, ge=0, le=60)
    # the CSP frame-ancestors sources; a ';' would smuggle in another directive
    frame_ancestors: str = Field("'self'", pattern=r"^[^;\r\n]+$")
    # answers from 1 KB up to gzip_max_bytes are gzipped; bigger ones (step records) would
    # spend more time deflating than a local link saves. Raise it for a slow remote link.
    gzip_max_bytes: int = Field(256 * 1024, ge=0)
    gzip_level: int = Field(1, ge=1, le=9)  # float text: level 1 is ~2x faster than 4, ~5% bigger
    # answers over 64 KiB go out in slices (app.sliced_body): at most sending_bytes of
    # them are being sent at once per process (more answer 503; one alone goes whatever
    # its size), and a client that takes less than a slice of one in send_stall_seconds
    # gets no more (`serve` also has the kernel drop it, on Linux: TCP_USER_TIMEOUT). The
    # biggest answer is about 40 MB
    sending_bytes: int = Field(64 * MIB, ge=MIB)
    send_stall_seconds: float = Field(30.0, gt=0, le=3600)
    # Prometheus metrics at /metrics on this port of the serving address (app.metrics);
    # 0 serves none. A port of its own, so that publishing the app never publishes them
    metrics_port: int = Field(0, ge=0, le=65535)
    # a folder of a teacher's own lesson files (*.json, docs/lessons.md), served after the
    # built-in ones; a bad file is skipped with a warning. It must exist: a mistyped path
    # stops the server rather than quietly serving no lessons
    lessons_dir: DirectoryPath | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return Settings()
