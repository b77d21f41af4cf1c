# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The compatibility pre-flight of a driver rollout: driver <-> hardware <-> firmware <-> CANN <-> image.

The matrix is data (the rolling_driver_upgrade role ships files/compatibility.yml and users extend
it); this module only interprets it. ModelArts names a driver "<firmware>-<driver>", e.g.
``7.5.0.5.220-24.1.0.3``. Versions compare case-insensitively (``24.1.rc3.10`` == ``24.1.RC3.10``).
"""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

_IMAGE_CANN = re.compile(r"cann[_-]?(\d+\.\d+\.[0-9a-z]+(?:\.[0-9a-z]+)?)", re.IGNORECASE)


def norm(version):
    return str(version or "").strip().upper()


def split_target(target):
    """(firmware, driver) from "<firmware>-<driver>"."""
    firmware, sep, driver = str(target or "").partition("-")
    if not sep or not firmware or not driver:
        raise ValidationError("driver_version %r is not of the form <firmware>-<driver>, for example "
                              "7.5.0.5.220-24.1.0.3." % target, option="driver_version")
    return firmware, driver


def hardware_of_flavor(matrix, flavor):
    """The hardware model (e.g. Snt9b) a flavor name belongs to, or None."""
    for entry in matrix.get("hardware") or []:
        if re.search(entry.get("flavor_regex") or "$^", flavor or "", re.IGNORECASE):
            return entry.get("model")
    return None


def _driver_entry(matrix, driver):
    for entry in matrix.get("drivers") or []:
        if norm(entry.get("driver")) == norm(driver):
            return entry
    return None


def cann_supports(matrix, cann, driver):
    """True/False, or None when the CANN version is not in the matrix."""
    table = {norm(k): v for k, v in (matrix.get("cann") or {}).items()}
    patterns = table.get(norm(cann))
    if patterns is None:
        return None
    return any(fnmatch.fnmatchcase(norm(driver), norm(p)) for p in patterns)


def image_facts(matrix, image):
    """(cann version or None, hardware model or None) read from a ModelArts-style image name."""
    match = _IMAGE_CANN.search(image or "")
    cann = match.group(1) if match else None
    model = None
    suffixes = sorted(((e.get("image_suffix"), e.get("model")) for e in matrix.get("hardware") or []
                       if e.get("image_suffix")), key=lambda s: -len(s[0]))
    for suffix, candidate in suffixes:
        if re.search(r"(?:^|[-_])%s(?:$|[-_:.])" % re.escape(suffix), image or "", re.IGNORECASE):
            model = candidate
            break
    return cann, model


def check(matrix, target, flavors, cann_version=None, images=None, allow_unknown=False):
    """Problems (sentences) of upgrading nodes of ``flavors`` to ``target``; [] when compatible.

    Returns (problems, facts): facts name the firmware, driver and hardware models found."""
    firmware, driver = split_target(target)
    problems = []
    models = sorted({hardware_of_flavor(matrix, f) or "unknown (%s)" % f for f in flavors})
    facts = {"firmware": firmware, "driver": driver, "hardware": models}
    entry = _driver_entry(matrix, driver)
    if entry is None:
        if not allow_unknown:
            problems.append("driver %s is not in the compatibility data; add it to the role's compatibility data "
                            "(rolling_driver_upgrade_compatibility_extra) or set allow_unknown_compatibility=true"
                            % driver)
    else:
        if norm(entry.get("firmware")) != norm(firmware):
            problems.append("driver %s ships with firmware %s, not %s" % (driver, entry.get("firmware"), firmware))
        supported = {norm(m) for m in entry.get("hardware") or []}
        for model in models:
            if norm(model) not in supported:
                problems.append("driver %s does not support hardware %s (supported: %s)"
                                % (driver, model, ", ".join(entry.get("hardware") or []) or "none"))
    wanted_cann = [("cann_version", cann_version)] if cann_version else []
    for image in images or []:
        image_cann, image_model = image_facts(matrix, image)
        if image_cann:
            wanted_cann.append(("image %s" % image, image_cann))
        if image_model and image_model not in models:
            problems.append("image %s is built for %s, but the nodes are %s" % (image, image_model, ", ".join(models)))
    for source, cann in wanted_cann:
        supported = cann_supports(matrix, cann, driver)
        if supported is None and not allow_unknown:
            problems.append("CANN %s (%s) is not in the compatibility data" % (cann, source))
        elif supported is False:
            problems.append("CANN %s (%s) does not run on driver %s" % (cann, source, driver))
    facts["cann"] = sorted({norm(c) for _s, c in wanted_cann})
    return problems, facts
