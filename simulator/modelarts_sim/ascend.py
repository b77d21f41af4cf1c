"""Stand-ins for the Ascend host tools ``npu-smi``, ``ascend-dmi`` and ``hccn_tool``.

The real tools exist only on Ascend hardware. These print the real tools' formats (see
../shared/reference/ascend-facts.md sections 4 and 5) for the simulated server whose root directory
is ``$LITE_SERVER_ROOT``; its facts are ``<root>/etc/modelarts-sim/host.json`` (written by
``sshworld.SshWorld``). Faults in ``host.json["faults"]``:

- ``unhealthy_chips``: Phy-IDs whose Health reads ``Critical`` and whose ascend-dmi diagnosis fails;
- ``hccs_link_down``: devices (Phy-IDs) whose HCCS link is degraded: their bandwidth collapses;
- ``roce_link_down``: RoCE port ids (device ids) whose link is DOWN.

Run as ``python -m modelarts_sim.ascend <tool> ARGS``; the per-host wrapper scripts do that.
"""
import json
import os
import sys
import time

CHIPS = {
    # chip family -> (npus, chips per npu, npu-smi name, row-2 header, bus id prefix)
    "snt9b": {"npus": 8, "chips": 1, "name": "910B3", "row2": "Chip", "hbm": 65536},
    "snt9b23": {"npus": 8, "chips": 2, "name": "Ascend910", "row2": "Chip  Phy-ID", "hbm": 65536},
}
DEFAULT_FACTS = {"chip": "snt9b23", "driver": "24.1.rc3.10", "firmware": "7.5.0.109.220", "super_pod_id": 0,
                 "faults": {}}
# Bandwidth figures (GB/s) for healthy and degraded links; a degraded HCCS link keeps a trickle.
HCCS_GBPS, HCCS_DEGRADED_GBPS = 196.0, 3.1
ROCE_GBPS = 23.6


def load_facts():
    root = os.environ.get("LITE_SERVER_ROOT", "/")
    path = os.path.join(root, "etc", "modelarts-sim", "host.json")
    facts = dict(DEFAULT_FACTS)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            facts.update(json.load(handle))
    facts["root"] = root
    return facts


def chips(facts):
    """One dict per die: npu, chip, phy_id, health, bus_id, temps and memory, from the facts."""
    spec = CHIPS[facts["chip"]]
    sick = set(facts.get("faults", {}).get("unhealthy_chips") or [])
    result = []
    for npu in range(spec["npus"]):
        for chip in range(spec["chips"]):
            phy = npu * spec["chips"] + chip
            result.append({"npu": npu, "chip": chip, "phy_id": phy, "name": spec["name"],
                           "health": "Critical" if phy in sick else "OK",
                           "power": "-" if chip else "%.1f" % (168.0 + npu * 1.5),
                           "temp": 36 + (phy * 7) % 11, "bus_id": "0000:%02X:00.0" % (
                               0x9D + 2 * phy if spec["chips"] > 1 else 0xC1 + 0x10 * npu),
                           "hbm_used": 3200 if chip else 3382, "hbm_total": spec["hbm"]})
    return result


# ---- npu-smi --------------------------------------------------------------------------------------
RULE = "+---------------------------+---------------+----------------------------------------------------+"
DOUBLE = "+===========================+===============+====================================================+"


def _row(first, second, third):
    return "| %-26s| %-14s| %-51s|" % (first, second, third)


def npu_smi_info(facts):
    spec = CHIPS[facts["chip"]]
    lines = ["+" + "-" * 96 + "+",
             "| %-95s|" % ("npu-smi %s%sVersion: %s" % (facts["driver"], " " * 14, facts["driver"])),
             RULE,
             _row("NPU   Name", "Health", "Power(W)    Temp(C)           Hugepages-Usage(page)"),
             _row(spec["row2"], "Bus-Id", "AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)"),
             DOUBLE]
    dies = chips(facts)
    for index, die in enumerate(dies):
        chip_cell = "%-6d%d" % (die["chip"], die["phy_id"]) if spec["chips"] > 1 else str(die["chip"])
        lines.append(_row("%-6d%s" % (die["npu"], die["name"]), die["health"],
                          "%-12s%-18s%s" % (die["power"], die["temp"], "0    / 0")))
        lines.append(_row(chip_cell, die["bus_id"],
                          "%-12s%-18s%s" % (0, "0    / 0", "%d / %d" % (die["hbm_used"], die["hbm_total"]))))
        last_of_npu = index + 1 == len(dies) or dies[index + 1]["npu"] != die["npu"]
        lines.append(DOUBLE if last_of_npu else RULE)
    lines += [_row("NPU     Chip", "Process id", "Process name             | Process memory(MB)"), DOUBLE]
    for npu in range(spec["npus"]):
        lines.append("| %-95s|" % ("No running processes found in NPU %d" % npu))
        lines.append(DOUBLE)
    return "\n".join(lines)


def _value(args, flag):
    """The argument after ``flag``, or None."""
    return args[args.index(flag) + 1] if flag in args[:-1] else None


def _fields(pairs):
    return "\n".join("        %-31s: %s" % pair for pair in pairs)


def npu_smi(args, facts):
    """npu-smi info | info -l | info -t board|health|ecc|spod-info -i N [-c C]."""
    if not args or args[0] != "info":
        return 2, "Usage: npu-smi info [-t type] [-i id] [-c chip_id]"
    spec = CHIPS[facts["chip"]]
    if "-l" in args:
        return 0, "\n".join(["        Total Count                    : %d" % spec["npus"], ""] + [
            _fields([("NPU ID", npu), ("Chip Count", spec["chips"])]) + "\n" for npu in range(spec["npus"])])
    kind = _value(args, "-t")
    if kind is None:
        return 0, npu_smi_info(facts)
    try:
        npu = int(_value(args, "-i"))
        chip = int(_value(args, "-c") or 0)
    except (TypeError, ValueError):
        return 2, "Error: the -i <npu id> option is required for -t %s." % kind
    if not 0 <= npu < spec["npus"] or not 0 <= chip < spec["chips"]:
        return 1, "Error: device %d chip %d does not exist." % (npu, chip)
    die = [d for d in chips(facts) if d["npu"] == npu and d["chip"] == chip][0]
    if kind == "board":
        return 0, _fields([("NPU ID", npu), ("Software Version", facts["driver"]),
                           ("Firmware Version", facts["firmware"]), ("Compatibility", "OK"), ("Board ID", "0x02"),
                           ("PCB ID", "A"), ("BOM ID", "1"), ("PCIe Bus Info", die["bus_id"]),
                           ("Slot ID", npu), ("Class ID", "NA"), ("PCI Vendor ID", "0x19e5"),
                           ("PCI Device ID", "0xD803"), ("Subsystem Vendor ID", "0x0200"),
                           ("Subsystem Device ID", "0x0100"), ("Chip Count", spec["chips"])])
    if kind == "health":
        sick = die["health"] != "OK"
        return 0, _fields([("Health Status", die["health"]), ("Error Code", "80E01801" if sick else "NA"),
                           ("Error Information", "HBM multi-bit ECC error" if sick else "NA")])
    if kind == "ecc":
        double = 4 if die["health"] != "OK" else 0
        return 0, _fields([("NPU ID", npu), ("Chip ID", chip), ("DDR Single Bit Error Count", 0),
                           ("DDR Double Bit Error Count", 0), ("HBM Single Bit Error Count", 0),
                           ("HBM Double Bit Error Count", double), ("HBM Single Bit Isolated Pages Count", 0),
                           ("HBM Double Bit Isolated Pages Count", double)])
    if kind == "spod-info":
        if facts["chip"] != "snt9b23":
            return 1, "Error: this device does not support the query of spod-info."
        return 0, _fields([("NPU ID", npu), ("Chip ID", chip), ("Super Pod ID", facts.get("super_pod_id", 0)),
                           ("Server Index", facts.get("server_index", 0))])
    return 2, "Error: unknown type %s." % kind


# ---- hccn_tool --------------------------------------------------------------------------------------
def hccn_tool(args, facts):
    """hccn_tool -i <device> -link -g | -net_health -g | -bandwidth -g (RoCE port of one NPU)."""
    spec = CHIPS[facts["chip"]]
    try:
        device = int(_value(args, "-i"))
    except (TypeError, ValueError):
        return 2, "Usage: hccn_tool -i <device_id> -link -g"
    if not 0 <= device < spec["npus"] * spec["chips"]:
        return 1, "Error: device id %d is invalid." % device
    down = device in set(facts.get("faults", {}).get("roce_link_down") or [])
    if "-link" in args:
        return 0, "link status: %s" % ("DOWN" if down else "UP")
    if "-net_health" in args:
        return 0, "net health status: %s" % ("Fault" if down else "Success")
    if "-bandwidth" in args:
        rates = (0.0, 0.0) if down else (ROCE_GBPS, ROCE_GBPS)
        return 0, "Bandwidth TX: %.2f GB/sec\nBandwidth RX: %.2f GB/sec" % rates
    return 2, "Error: unsupported command."


# ---- ascend-dmi ---------------------------------------------------------------------------------------
def _stamp():
    return time.strftime("%Y%m%d-%H:%M:%S")


def ascend_dmi(args, facts):
    """ascend-dmi -v | --dg -i items [-q] | --bw -t h2d|d2h -d N [-q] | --bw -t p2p -ds A -dd B [-q] | -f [-q].

    On A3, h2d/d2h measure the HCCS plane of one device (ascend-facts.md 5.1)."""
    spec = CHIPS[facts["chip"]]
    faults = facts.get("faults", {})
    if "-v" in args:
        return 0, "Version: 7.3.0\nBuild: 20251010"
    arch = "Ascend910_93" if facts["chip"] == "snt9b23" else "Ascend910B3"
    header = ["Summary:", "    %-10s: %s" % ("Arch", arch), "    %-10s: %s" % ("Mode", "healthCheck"),
              "    %-10s: %s" % ("Time", _stamp())]
    if "--dg" in args:
        items = (_value(args, "-i") or "device,aicore,hbm").split(",")
        sick = set(faults.get("unhealthy_chips") or [])
        lines = header + ["Hardware:"]
        for item in items:
            status = "FAIL" if sick and item in ("device", "aicore", "hbm", "aiflops") else "PASS"
            lines.append("    %-22s%s" % (item, status))
            if status == "FAIL":
                lines += ["        %-18s%s" % ("Device %d" % phy, "FAIL") for phy in sorted(sick)]
        return (1 if any(line.endswith("FAIL") for line in lines) else 0), "\n".join(lines)
    if "--bw" in args:
        kind = _value(args, "-t") or "h2d"
        try:
            devices = [int(_value(args, "-ds")), int(_value(args, "-dd"))] if kind == "p2p" else \
                [int(_value(args, "-d") or 0)]
        except (TypeError, ValueError):
            return 2, "Error: p2p needs -ds <device> and -dd <device>."
        if any(not 0 <= d < spec["npus"] * spec["chips"] for d in devices):
            return 1, "Error: device id is invalid."
        degraded = set(faults.get("hccs_link_down") or [])
        rate = HCCS_DEGRADED_GBPS if set(devices) & degraded else HCCS_GBPS
        where = "Src: %d  Dst: %d" % tuple(devices) if kind == "p2p" else "Device: %d" % devices[0]
        return 0, "\n".join(header + ["Type: %s  %s" % (kind, where),
                                      "%-14s%-16s%s" % ("Size(Bytes)", "Execute Times", "Bandwidth(GB/s)"),
                                      "%-14s%-16s%.2f" % ("33554432", "40", rate)])
    if "-f" in args:
        sick = set(faults.get("unhealthy_chips") or [])
        lines = header + ["%-10s%-10s%s" % ("Device", "Type", "Computing Power(TFLOPS)")]
        for die in chips(facts):
            lines.append("%-10d%-10s%.1f" % (die["phy_id"], "fp16", 0.0 if die["phy_id"] in sick else 353.9))
        return 0, "\n".join(lines)
    return 2, "Usage: ascend-dmi [-v | -f | --bw | --dg] ..."


TOOLS = {"npu-smi": npu_smi, "hccn_tool": hccn_tool, "ascend-dmi": ascend_dmi}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    tool, args = argv[0], argv[1:]
    code, text = TOOLS[tool](args, load_facts())
    # Refusals go to stderr; reports (a failed diagnosis too) to stdout, as the real tools do.
    (sys.stderr if text.startswith(("Error", "Usage")) else sys.stdout).write(text + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
