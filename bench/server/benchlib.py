"""What the server benchmarks share: the server's memory and latency percentiles."""


def rss_mb(pid):
    """Resident memory of a process, in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency_line(name, seconds, expected):
    """`name: N of M received; p50 …, p90 …, p99 …, max …` in milliseconds."""
    ms = [value * 1000 for value in seconds]
    if not ms:
        return f"  {name}: 0 of {expected} received"
    return (f"  {name}: {len(ms)} of {expected} received; p50 {percentile(ms, 50):.1f} ms, "
            f"p90 {percentile(ms, 90):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms")
