"""Page speed in headless Chromium, from the page's own performance marks.

Starts the server, opens the page on two workloads and prints, for each:
- step redraw: ms from a step change ("step-start") until every view has redrawn
  ("step-rendered"), as the `step-redraw` measure; p50 and p95 over clicks on "next"
  (the way a learner steps) and over random jumps (nothing prefetched);
- playback: iterations per second with play at full speed;
- bytes (issue 15): KB per step change at the page's own /api/ requests (transfer size,
  gzip and headers included), stepping with "next" and playing at 15 it/s, and MB/s
  playing, for the default moons run (with and without the unit thumbnails) and digits
  full batch, against the goals. --bytes-only measures only these;
- phase play (issue 13): ms of the network diagram's animation frames (the paint, and the
  gap between two frames: what the eye sees) and of each phase change (from the phase's
  start until every view has drawn it), p50, p95 and max over whole iterations of phase
  play, on a deep sigmoid run and on digits, against the 100 ms goal; and the main
  thread's long tasks (over 50 ms, PerformanceObserver "longtask") while the phases play
  and in the second after they stop, max, p95 and count, the two runs side by side, with
  the load average. --phases-only measures only these.

--root runs the server (and so the page) of another checkout; --baseline DIR measures a
second one (e.g. a `git archive HEAD` export) right before it on each workload, so that a
change and its baseline are compared side by side on this shared machine.

    .venv/bin/python bench/bench_page.py [--steps 40] [--seconds 5] [--baseline DIR] [--only W4]
        [--bytes-only] [--phases-only] [--pace normal] [--iterations 1]
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# W1: moons [2, 8, 8, 1] with 500 training points (625 samples, test_fraction 0.2);
# W4: digits [64, 32, 16, 10] (1,437 training images, full batch); W4b: the same with adam
# and mini-batches of 64 (X and every batch tensor change with each step)
WORKLOADS = {"W1 moons [2,8,8,1], m=500": "?n_samples=625",
             "W4 digits [64,32,16,10]": "?dataset=digits&hidden_layers=32,16",
             "W4b digits [64,32,16,10], adam, batch 64":
                 "?dataset=digits&hidden_layers=32,16&optimizer=adam&learning_rate=0.01&batch_size=64"}
# issue 12's goals: a step change redrawn in p50 <= 60 ms and p95 <= 100 ms; playback
GOAL_MS = (60, 100)
GOAL_PLAY = {"W1": 25, "W4": 20, "W4b": 20}
PAUSE_S = 0.15  # between clicks, as a person stepping: long enough for the prefetch
# bytes per step change (issue 15): (query, thumbnails on) -> goal in KB per step change;
# playing digits at PLAY_RATE it/s must stay under GOAL_PLAY_MBS
BYTES_WORKLOADS = {"moons default": ("", False, 16),
                   "moons default, unit thumbnails": ("", True, 16),
                   "digits full batch": ("?dataset=digits&hidden_layers=32,16", False, 64)}
PLAY_RATE, GOAL_PLAY_MBS = 15, 1.0
API_BYTES = ("() => performance.getEntriesByType('resource').filter(e => e.name.includes('/api/'))"
             ".reduce((sum, e) => sum + e.transferSize, 0)")
REDRAWS = "() => performance.getEntriesByName('step-redraw').length"
# phase play (issue 13): no animation frame over FRAME_GOAL_MS
PHASE_WORKLOADS = {
    "P1 deep sigmoid moons [2,8,8,8,8,8,1]":
        "?hidden_layers=8,8,8,8,8&activations=sigmoid,sigmoid,sigmoid,sigmoid,sigmoid,sigmoid&it=100",
    "P2 digits [64,32,16,10]": "?dataset=digits&hidden_layers=32,16&it=100"}
FRAME_GOAL_MS = 100
PACE_S = {"slow": 2.5, "normal": 1.2, "fast": 0.5}  # static/js/phase_player.js's PACES


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root):
    port = free_port()
    # the root's own app package first: `python -m app` from its directory imports it
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                               cwd=root, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def redraw_durations(page, n):
    return page.evaluate(f"() => performance.getEntriesByName('step-redraw')"
                         f".slice(-{n}).map(e => e.duration)")


def wait_for_redraw(page, before):
    page.wait_for_function(f"() => performance.getEntriesByName('step-redraw').length > {before}",
                           timeout=10_000)


def step_clicks(page, steps):
    for _ in range(steps):
        before = page.evaluate(REDRAWS)
        page.get_by_test_id("step-next").click()
        wait_for_redraw(page, before)
        time.sleep(PAUSE_S)
    return redraw_durations(page, steps)


def random_jumps(page, steps, last):
    for t in random.Random(0).sample(range(last), steps):
        before = page.evaluate(REDRAWS)
        page.get_by_test_id("step-slider").fill(str(t))
        wait_for_redraw(page, before)
        time.sleep(PAUSE_S)
    return redraw_durations(page, steps)


def playback_rate(page, seconds):
    page.locator("#speed").select_option("60")
    page.get_by_test_id("step-slider").fill("0")
    time.sleep(0.5)
    start = page.evaluate(REDRAWS)
    page.get_by_test_id("play-toggle").click()
    time.sleep(seconds)
    page.get_by_test_id("play-toggle").click()
    return (page.evaluate(REDRAWS) - start) / seconds


def summary(durations):
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms"


def bench(browser, url, query, args):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url + "/" + query)
    page.locator(".js-plotly-plot").nth(5).wait_for(timeout=60_000)
    page.wait_for_function(REDRAWS.replace("=>", "=> 0 <"), timeout=60_000)
    time.sleep(1.5)  # let the first gradient check finish
    last = int(page.get_by_test_id("step-slider").get_attribute("max"))
    results = {"next": step_clicks(page, args.steps), "jump": random_jumps(page, args.steps, last),
               "play": playback_rate(page, args.seconds)}
    page.close()
    return results


def report(name, root, r):
    goal = f"(goal p50 <= {GOAL_MS[0]} ms, p95 <= {GOAL_MS[1]} ms)"
    print(f"{name}   [{root}]")
    print(f"  step redraw, next:  {summary(r['next'])}   {goal}")
    print(f"  step redraw, jump:  {summary(r['jump'])}")
    print(f"  playback:           {r['play']:6.1f} iterations/s "
          f"(goal >= {GOAL_PLAY[name.split()[0]]})", flush=True)


def reset_api_bytes(page):
    page.evaluate("() => { performance.setResourceTimingBufferSize(100000); "
                  "performance.clearResourceTimings(); }")


def bytes_stepping(page, steps):
    """KB of /api/ answers per click on "next", its prefetch of the step after included."""
    reset_api_bytes(page)
    step_clicks(page, steps)
    page.wait_for_load_state("networkidle")
    return page.evaluate(API_BYTES) / 1024 / steps


def bytes_playing(page, seconds):
    """(KB per iteration shown, MB/s, iterations/s) while playing at PLAY_RATE it/s."""
    page.locator("#speed").select_option(str(PLAY_RATE))
    reset_api_bytes(page)
    page.get_by_test_id("play-toggle").click()
    time.sleep(seconds)
    sent, shown = page.evaluate(API_BYTES), int(page.get_by_test_id("step-slider").input_value())
    page.get_by_test_id("play-toggle").click()
    return sent / 1024 / max(shown, 1), sent / seconds / 2**20, shown / seconds


def bytes_page(browser, url, query, thumbnails, measure):
    """measure(page) on a fresh page: none of the steps it asks for is in the page's cache."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url + "/" + query)
    page.wait_for_function(REDRAWS.replace("=>", "=> 0 <"), timeout=60_000)
    if thumbnails:  # fetched while their panel is open and on screen: from now on
        with page.expect_response(lambda r: "/units?" in r.url):
            page.get_by_test_id("view-units").scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    result = measure(page)
    page.close()
    return result


def bench_bytes(browser, url, query, thumbnails, args):
    return {"next": bytes_page(browser, url, query, thumbnails,
                               lambda page: bytes_stepping(page, args.steps)),
            "play": bytes_page(browser, url, query, thumbnails,
                               lambda page: bytes_playing(page, args.seconds))}


def report_bytes(name, root, goal, r):
    kb, mbs, rate = r["play"]
    print(f"{name}   [{root}]")
    print(f"  bytes per step change, next:  {r['next']:6.1f} KB   (goal <= {goal} KB)")
    print(f"  bytes per step change, play:  {kb:6.1f} KB   at {rate:4.1f} it/s: {mbs:5.2f} MB/s, "
          f"{kb * PLAY_RATE / 1024:5.2f} MB/s at {PLAY_RATE} it/s (goal <= {GOAL_PLAY_MBS})",
          flush=True)


# the main thread's long tasks from now on, as [start ms, duration ms]
WATCH_LONG_TASKS = ("() => { window.longTasks = []; new PerformanceObserver((list) => { "
                    "for (const e of list.getEntries()) "
                    "window.longTasks.push([e.startTime, e.duration]); "
                    "}).observe({type: 'longtask'}); }")
STOP_S = 1.0  # after the phases stop: the views they left waiting draw


def phase_play_times(page, iterations, pace):
    """{"paint", "gap", "change", "long", "long_stop"}: ms of each animation frame's paint,
    between animation frames, of each phase change, and of each long task while the phases
    play and in the STOP_S after they stop, over `iterations` whole iterations of phase play."""
    page.locator("#pace").select_option(pace)
    phases = page.locator("#phase-strip button").count() * iterations
    page.evaluate("() => { performance.clearMarks('phase-frame'); "
                  "performance.clearMeasures('phase-change'); }")
    page.evaluate(WATCH_LONG_TASKS)
    page.get_by_test_id("phase-play").click()
    page.wait_for_function(f"() => performance.getEntriesByName('phase-change').length >= {phases}",
                           timeout=phases * (PACE_S[pace] + 2) * 1000)
    time.sleep(PACE_S[pace])  # the last phase's move ends
    stopped = page.evaluate("() => performance.now()")
    page.get_by_test_id("phase-play").click()
    time.sleep(STOP_S)
    frames = page.evaluate("() => performance.getEntriesByName('phase-frame')"
                           ".map(e => [e.detail.paint, e.detail.gap])")
    changes = page.evaluate("() => performance.getEntriesByName('phase-change')"
                            ".map(e => e.duration)")
    long_tasks = page.evaluate("() => window.longTasks")
    # a move's first frame has no gap before it (0)
    return {"paint": [d for d, _ in frames], "gap": [g for _, g in frames if g > 0],
            "change": changes, "long": [d for t, d in long_tasks if t < stopped],
            "long_stop": [d for t, d in long_tasks if t >= stopped]}


def bench_phases(browser, url, query, args):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url + "/" + query)
    page.wait_for_function(REDRAWS.replace("=>", "=> 0 <"), timeout=60_000)
    page.wait_for_load_state("networkidle")
    time.sleep(1.5)  # let the first gradient check finish
    load = load_text()
    result = phase_play_times(page, args.iterations, args.pace)
    page.close()
    return {**result, "load": load}


def spread(durations):
    ordered = sorted(durations)
    if not ordered:
        return "no measures"
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
            f"max {ordered[-1]:6.1f} ms   ({len(ordered)})")


def long_task_text(durations):
    """max, p95 and count of long tasks (each over 50 ms); none is the best answer."""
    if not durations:
        return "none"
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"max {ordered[-1]:4.0f}  p95 {p95:4.0f}  n {len(ordered):2d}"


def load_text():
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def report_phases(name, root, r, pace):
    print(f"{name}   [{root}]   phase play at the {pace} pace   ({r['load']})")
    print(f"  animation frame, paint:          {spread(r['paint'])}")
    print(f"  animation frame, frame to frame: {spread(r['gap'])}   "
          f"(goal: max <= {FRAME_GOAL_MS} ms)")
    print(f"  phase change, until drawn:       {spread(r['change'])}")
    print(f"  long tasks, playing:             {long_task_text(r['long'])}   "
          f"(goal: max <= {FRAME_GOAL_MS} ms)")
    print(f"  long tasks, {STOP_S:.0f} s after the stop:  {long_task_text(r['long_stop'])}",
          flush=True)


def report_long_tasks(results):
    """The long tasks of phase play, the workloads side by side: {(name, root): result}."""
    names = list(dict.fromkeys(name for name, _ in results))
    width = 34
    print(f"\nlong tasks (> 50 ms) while the phases play, ms   (goal: max <= {FRAME_GOAL_MS} ms)")
    print(" " * 12 + "".join(f"{name.split(' [')[0][:width - 2]:<{width}}" for name in names))
    for root in dict.fromkeys(root for _, root in results):
        cells = [long_task_text(results[name, root]["long"]) if (name, root) in results else "—"
                 for name in names]
        print(f"{root.name[:10]:<12}" + "".join(f"{cell:<{width}}" for cell in cells), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="step changes per measure")
    parser.add_argument("--seconds", type=float, default=5.0, help="playback duration")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose server runs")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a second checkout, measured right before --root on each workload")
    parser.add_argument("--only", nargs="*", default=None, help="workload keys, e.g. W1 W4")
    parser.add_argument("--bytes-only", action="store_true", help="only the bytes section")
    parser.add_argument("--phases-only", action="store_true", help="only the phase play section")
    parser.add_argument("--pace", choices=list(PACE_S), default="normal", help="phase play's pace")
    parser.add_argument("--iterations", type=int, default=1, help="iterations of phase play")
    args = parser.parse_args()
    roots = [r.resolve() for r in (args.baseline, args.root) if r is not None]
    servers = [start_server(root) for root in roots]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, query in WORKLOADS.items():
                if (args.bytes_only or args.phases_only
                        or (args.only and name.split()[0] not in args.only)):
                    continue
                # side by side: the shared machine's load drifts over minutes
                for root, (_, url) in zip(roots, servers, strict=True):
                    report(name, root, bench(browser, url, query, args))
            for name, (query, thumbnails, goal) in BYTES_WORKLOADS.items():
                for root, (_, url) in zip(roots, servers, strict=True):
                    if args.phases_only:
                        continue
                    report_bytes(name, root, goal, bench_bytes(browser, url, query, thumbnails,
                                                               args))
            phase_results = {}
            for name, query in PHASE_WORKLOADS.items():
                if args.bytes_only or (args.only and name.split()[0] not in args.only):
                    continue
                for root, (_, url) in zip(roots, servers, strict=True):
                    phase_results[name, root] = bench_phases(browser, url, query, args)
                    report_phases(name, root, phase_results[name, root], args.pace)
            if phase_results:
                report_long_tasks(phase_results)
            browser.close()
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
