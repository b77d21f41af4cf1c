# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Filters that turn Ascend host tool output (npu-smi, ascend-dmi, hccn_tool) into data.

The roles run the tools on the servers and parse on the controller, so the parsing is plain
Python with unit tests against the formats in ascend-facts.md sections 4 and 5.
"""

from __future__ import annotations

import re

HEALTH_WORDS = ("OK", "Warning", "Alarm", "Critical", "UNKNOWN")
USAGE = re.compile(r"^(\S+)\s+(\d+)\s*/\s*(\d+)\s+(\d+)\s*/\s*(\d+)\s*$")
POWER = re.compile(r"^(\S+)\s+(\S+)\s+(\d+)\s*/\s*(\d+)\s*$")
FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ()%/_.-]*?)\s*:\s*(.*?)\s*$")


class AscendParseError(ValueError):
    """Output that is not what the tool prints. (ansible.errors is not imported: in a process that
    also runs modules, as unit tests do, it switches module warnings to the controller's display.)"""


def _fail(message):
    raise AscendParseError(message)


def _number(text):
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return None


def npu_smi_info(text):
    """`npu-smi info` -> {"version", "chips": [{npu, chip, phy_id, name, health, power_w, temp_c,
    bus_id, aicore_pct, memory_used_mb, memory_total_mb, hbm_used_mb, hbm_total_mb}]}."""
    if not isinstance(text, str):
        _fail("npu_smi_info expects the text printed by npu-smi info")
    version = re.search(r"Version:\s*(\S+)", text)
    chips, pending = [], None
    for line in text.splitlines():
        if not line.startswith("|") or "Process id" in line:
            if "Process id" in line:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            continue
        first = cells[0].split()
        if pending is None and cells[1] in HEALTH_WORDS and len(first) >= 2 and first[0].isdigit():
            power = POWER.match(cells[2])
            pending = {"npu": int(first[0]), "name": " ".join(first[1:]), "health": cells[1],
                       "power_w": _number(power.group(1)) if power else None,
                       "temp_c": _number(power.group(2)) if power else None}
        elif pending is not None and first and first[0].isdigit():
            usage = USAGE.match(cells[2])
            pending.update(chip=int(first[0]), phy_id=int(first[1]) if len(first) > 1 else None, bus_id=cells[1],
                           aicore_pct=_number(usage.group(1)) if usage else None,
                           memory_used_mb=int(usage.group(2)) if usage else None,
                           memory_total_mb=int(usage.group(3)) if usage else None,
                           hbm_used_mb=int(usage.group(4)) if usage else None,
                           hbm_total_mb=int(usage.group(5)) if usage else None)
            if pending["phy_id"] is None:
                pending["phy_id"] = pending["npu"]
            chips.append(pending)
            pending = None
    if not chips:
        _fail("npu_smi_info found no NPU in the npu-smi info output")
    return {"version": version.group(1) if version else None, "chips": chips}


def npu_smi_fields(text):
    """`npu-smi info -t board|health|ecc ...` (`Name : value` lines) -> {name: value}."""
    fields = {}
    for line in (text or "").splitlines():
        match = FIELD.match(line)
        if match:
            fields[match.group(1)] = match.group(2)
    return fields


def ascend_dmi_diagnosis(text):
    """`ascend-dmi --dg` -> {"summary": {Arch, Mode, Time}, "items": {item: status},
    "devices": {item: {device id: status}}}; status words as the tool prints them (PASS, FAIL, ...)."""
    summary, items, devices, section, item = {}, {}, {}, None, None
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped in ("Summary:", "Hardware:"):
            section = stripped[:-1]
            continue
        if not stripped:
            continue
        if section == "Summary":
            match = FIELD.match(line)
            if match:
                summary[match.group(1)] = match.group(2)
        elif section == "Hardware":
            indent = len(line) - len(line.lstrip())
            parts = stripped.rsplit(None, 1)
            if len(parts) != 2:
                continue
            if indent <= 4:
                item = parts[0]
                items[item] = parts[1]
            elif item is not None:
                device = parts[0].replace("Device", "").strip()
                devices.setdefault(item, {})[int(device) if device.isdigit() else device] = parts[1]
    return {"summary": summary, "items": items, "devices": devices}


def ascend_dmi_bandwidth(text):
    """`ascend-dmi --bw -t p2p ...` -> bandwidth in GB/s of the last measured size (float), or None."""
    rates = re.findall(r"^\s*\d+\s+\d+\s+([\d.]+)\s*$", text or "", re.MULTILINE)
    return float(rates[-1]) if rates else None


SECTION = "@@chip "


def npu_health_facts(table, details, max_temperature=85, max_hbm_double_bit_errors=0):
    """The npu_health role's facts from `npu-smi info` (``table``) and ``details``: the board view of
    NPU 0, then for each chip a line ``@@chip <phy_id>`` followed by its ``-t ecc`` view."""
    parsed = npu_smi_info(table)
    sections = ("\n" + (details or "")).split("\n" + SECTION)
    board = npu_smi_fields(sections[0])
    ecc = {}
    for section in sections[1:]:
        head, _sep, body = section.partition("\n")
        ecc[int(head.strip())] = npu_smi_fields(body)
    chips = []
    for chip in parsed["chips"]:
        counters = ecc.get(chip["phy_id"], {})
        double = int(counters.get("HBM Double Bit Error Count", 0) or 0)
        problems = [] if chip["health"] == "OK" else ["health %s" % chip["health"]]
        if chip["temp_c"] is not None and chip["temp_c"] > max_temperature:
            problems.append("temperature %s C" % chip["temp_c"])
        if double > max_hbm_double_bit_errors:
            problems.append("%d HBM double-bit ECC errors" % double)
        chips.append(dict(chip, hbm_double_bit_errors=double,
                          hbm_single_bit_errors=int(counters.get("HBM Single Bit Error Count", 0) or 0),
                          healthy=not problems, problems=problems))
    temperatures = [c["temp_c"] for c in chips if c["temp_c"] is not None]
    return {"driver_version": board.get("Software Version") or parsed["version"],
            "firmware_version": board.get("Firmware Version", ""), "chip_count": len(chips),
            "chip_name": chips[0]["name"], "dies_per_npu": len([c for c in chips if c["npu"] == chips[0]["npu"]]),
            "chips": chips, "unhealthy_chips": [c["phy_id"] for c in chips if not c["healthy"]],
            "healthy": all(c["healthy"] for c in chips), "max_temperature_c": max(temperatures, default=None)}


# HCCL operator-level retry (ascend-facts.md 1.1): Atlas A3 only (Snt9b23: two dies per NPU, npu-smi name
# Ascend910); ModelArts requires HDK >= 24.1.RC3.5 and CANN >= 8.1.RC1 (the first CANN that documents it).
RETRY_MIN_DRIVER = "24.1.rc3.5"
RETRY_MIN_CANN = "8.1.RC1"
TOOLKIT_VERSION = re.compile(r"^version=(\S+)\s*$", re.MULTILINE)


def driver_version_key(version):
    """A sortable key for HDK and CANN versions: 24.1.rc3.10 < 24.1.0 < 24.1.0.3 < 25.0.rc1; 8.0.RC3 < 8.0.0 < 8.1.RC1."""
    key = []
    for index, part in enumerate(str(version).lower().split(".")):
        if index == 2:
            key.append((0, int(part[2:])) if part.startswith("rc") and part[2:].isdigit() else
                       (1, int(part) if part.isdigit() else 0))
        else:
            key.append(int(part) if part.isdigit() else 0)
    while len(key) < 4:
        key.append((1, 0) if len(key) == 2 else 0)
    return key


def hccl_retry_support(table, toolkit_info):
    """From `npu-smi info` and the CANN toolkit's ascend_toolkit_install.info text ("" when the server has none):
    {"supported", "reason", "chip_name", "dies_per_npu", "driver_version", "cann_version"}."""
    parsed = npu_smi_info(table)
    chips = parsed["chips"]
    dies = len([c for c in chips if c["npu"] == chips[0]["npu"]])
    driver = parsed["version"] or ""
    cann = TOOLKIT_VERSION.search(toolkit_info or "")
    cann = cann.group(1) if cann else ""
    reason = ""
    if dies != 2 or chips[0]["name"] != "Ascend910":
        reason = ("HCCL operator-level retry runs only on Atlas A3 (Snt9b23) super node servers; this server has "
                  "%s NPUs with %d die(s) each" % (chips[0]["name"], dies))
    elif driver_version_key(driver) < driver_version_key(RETRY_MIN_DRIVER):
        reason = "HCCL operator-level retry needs HDK driver %s or later; this server runs %s" % (
            RETRY_MIN_DRIVER, driver)
    elif not cann:
        reason = ("HCCL operator-level retry needs CANN %s or later; this server has no CANN toolkit "
                  "(no ascend_toolkit_install.info with a version)" % RETRY_MIN_CANN)
    elif driver_version_key(cann) < driver_version_key(RETRY_MIN_CANN):
        reason = "HCCL operator-level retry needs CANN %s or later; this server runs CANN %s" % (RETRY_MIN_CANN, cann)
    return {"supported": not reason, "reason": reason, "chip_name": chips[0]["name"], "dies_per_npu": dies,
            "driver_version": driver, "cann_version": cann}


def stress_test_summary(report):
    """One server's stress-test report (the supernode_stress_test run script's JSON) -> {"server", "passed",
    "items": {item: worst status}, "failed": ["<item> <target>: <detail>", ...]}; FAIL > PASS > SKIP."""
    rank = {"SKIP": 0, "PASS": 1, "FAIL": 2}
    items = {}
    for entry in report.get("results", []):
        if rank.get(entry["status"], 2) >= rank.get(items.get(entry["item"]), -1):
            items[entry["item"]] = entry["status"]
    failed = ["%s %s: %s" % (e["item"], e["target"], e.get("detail") or e.get("value"))
              for e in report.get("results", []) if e["status"] == "FAIL"]
    return {"server": report.get("server"), "passed": bool(report.get("passed")) and not failed, "items": items,
            "failed": failed}


class FilterModule:
    def filters(self):
        return {"npu_smi_info": npu_smi_info, "npu_smi_fields": npu_smi_fields, "npu_health_facts": npu_health_facts,
                "hccl_retry_support": hccl_retry_support,
                "stress_test_summary": stress_test_summary,
                "ascend_dmi_diagnosis": ascend_dmi_diagnosis, "ascend_dmi_bandwidth": ascend_dmi_bandwidth}
