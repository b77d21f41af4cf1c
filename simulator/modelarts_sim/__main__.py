"""python -m modelarts_sim serve|stop --state-dir DIR"""
import argparse
import json
import os
import signal
import sys
import time

from .server import Simulator


def serve(args):
    simulator = Simulator(args.state_dir, port=args.port, time_scale=args.time_scale, seed=args.seed)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: simulator.stopped.set())
    simulator.start()
    print("modelarts-sim listening on %s (state in %s)" % (simulator.world.base_url, simulator.world.state_dir),
          flush=True)
    while not simulator.stopped.wait(0.5):
        pass
    simulator.stop()
    return 0


def _read_pid(state_dir):
    for name, parse in (("sim.pid", lambda text: int(text.strip())),
                        ("env.json", lambda text: int(json.loads(text)["pid"]))):
        try:
            with open(os.path.join(state_dir, name), encoding="utf-8") as handle:
                return parse(handle.read())
        except (OSError, ValueError, KeyError):
            continue
    return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an exited child its parent has not reaped yet is a zombie, not a running server
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop(args):
    pid = _read_pid(args.state_dir)
    if pid is None or not _alive(pid):
        print("no simulator running for %s" % args.state_dir)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            print("stopped simulator pid %d" % pid)
            return 0
        time.sleep(0.05)
    print("simulator pid %d did not stop within %s s" % (pid, args.timeout), file=sys.stderr)
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="modelarts_sim", description="Local ModelArts Lite simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the simulator in the foreground")
    serve_parser.add_argument("--state-dir", required=True)
    serve_parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve_parser.add_argument("--time-scale", type=float, default=1.0,
                              help="simulated seconds per wall-clock second (durations are divided by it); "
                                   "0 stops the clock: it then moves only by POST /_sim/clock/advance (tests)")
    serve_parser.add_argument("--seed", type=int, default=0)
    stop_parser = commands.add_parser("stop", help="stop the simulator serving a state dir")
    stop_parser.add_argument("--state-dir", required=True)
    stop_parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.command == "serve" and args.time_scale < 0:
        parser.error("--time-scale must be >= 0")
    return serve(args) if args.command == "serve" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
