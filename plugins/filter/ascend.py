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


class FilterModule:
    def filters(self):
        return {"npu_smi_info": npu_smi_info, "npu_smi_fields": npu_smi_fields,
                "ascend_dmi_diagnosis": ascend_dmi_diagnosis, "ascend_dmi_bandwidth": ascend_dmi_bandwidth}
