"""End-to-end tests of several CPUs: the kernel starts every CPU QEMU's
MADT lists as enabled and reports them (`cpus:`), runs an idle thread on
each (`ps`), passes its self-test on all of them, spreads `spin` threads
over them while the shell still answers at once, lists them in `cpu`,
names the CPU in a panic report that appears once, powers off from the
shell, and without ACPI runs on the boot CPU alone and says so.

QEMU 7.2 runs its virtual CPUs in parallel (multi-threaded TCG) on this
machine's two host cores, so the timeouts are generous at -smp 8."""

import re
import time

import pytest

from harness import check
from terminal import run, wait_for_prompt
from test_threads import ps, shell

CPUS_LINE = re.compile(r"^cpus: (\d+) online \(apic ids ([\d ]+)\)(.*)$")

# (QEMU's -smp, CPUs online, the rest of the cpus: line)
CONFIGURATIONS = {
    "smp1": ("1", 1, ": the MADT lists no other CPU, the boot CPU alone"),
    "smp2": ("2", 2, ""),
    "smp3": ("3", 3, ""),
    "smp4": ("4", 4, ""),
    "smp8": ("8", 8, ""),
    # QEMU's MADT lists four local APICs, two enabled: Linux reports two
    # online and two hotplug.
    "smp2-maxcpus4": ("2,maxcpus=4", 2, ", 2 hotplug (apic ids 2 3)"),
}

# A whole self-test takes a few seconds per CPU here under TCG.
SELFTEST_TIMEOUT = 600


def cpus_line(boot) -> re.Match:
    """The boot report's `cpus:` line, parsed."""
    boot.wait_for_line(r"^cpus: ", regex=True)
    lines = [CPUS_LINE.match(line) for line in boot.serial_lines()]
    lines = [match for match in lines if match]
    check(boot, len(lines) == 1, f"expected one cpus: line, found {len(lines)}")
    return lines[0]


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_every_cpu_is_started_and_passes_the_self_test(qemu, name):
    """At each -smp: the `cpus:` line counts the CPUs and lists their APIC
    IDs; `ps` shows one idle thread per CPU, each on its own CPU; the
    in-kernel self-test (the lock, heap and TLB-shootdown stress tests on
    every CPU among them) passes from the shell."""
    smp, online, rest = CONFIGURATIONS[name]
    boot = shell(qemu, f"smp-{name}", qemu_args=["-smp", smp], timeout=SELFTEST_TIMEOUT)
    match = cpus_line(boot)
    check(boot, int(match.group(1)) == online, f"{match.group(0)!r}: expected {online} online")
    check(boot, match.group(2).split() == [str(i) for i in range(online)],
          f"{match.group(0)!r}: expected apic ids 0..{online - 1}")
    check(boot, match.group(3) == rest, f"{match.group(0)!r}: expected it to end {rest!r}")
    idle = sorted(cpu for name, _, cpu in ps(boot).values() if name == "idle")
    check(boot, idle == list(range(online)), f"idle threads on CPUs {idle}, expected one each")

    results = run(boot, "selftest")
    summary = [line for line in results if re.match(r"^\d+ passed, \d+ failed", line)]
    failed = [line for line in results if line.endswith("... FAILED")]
    check(boot, summary and re.match(r"^\d+ passed, 0 failed", summary[0]) and not failed,
          f"the self-test failed at -smp {smp}: {summary} {failed}")
    smp_tests = [line for line in results if line.startswith("test smp::")]
    check(boot, len(smp_tests) == 5 and all(line.endswith("... ok") for line in smp_tests),
          f"the smp tests did not all pass: {smp_tests}")
    boot.check_running()


def test_spinners_spread_over_the_cpus_and_echo_answers_at_once(qemu):
    """At -smp 4, four `spin 5` run on different CPUs (`ps`'s CPU column),
    and `echo` answers at once meanwhile (within the 3 s the one-CPU test
    allows); `interrupts` counts the reschedule IPIs that woke the idle
    CPUs; `cpu` lists the four CPUs."""
    boot = shell(qemu, "smp-spread", qemu_args=["-smp", "4"])
    spinners = []
    for _ in range(4):
        said = run(boot, "spin 5")
        match = re.match(r"^spin: thread (\d+), 5 s$", said[0] if said else "")
        check(boot, match is not None, f"spin 5 said {said}")
        spinners.append(int(match.group(1)))
    started = time.monotonic()
    check(boot, run(boot, "echo still-here") == ["still-here"], "echo did not answer")
    check(boot, time.monotonic() - started < 3,
          "echo took longer than the spinners' slices allow")
    # Placement spreads them; an idle CPU steals a queued one at its next
    # tick: give it a few looks.
    deadline = time.monotonic() + 4
    while True:
        threads = ps(boot)
        cpus = {threads[i][2] for i in spinners if i in threads}
        if len(cpus) == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(boot, len(cpus) == 4, f"the spinners share CPUs: {[threads.get(i) for i in spinners]}")

    # The spinners went to idle CPUs, each woken by a reschedule IPI; the
    # `interrupts` command counts them.
    ipis = [re.match(r"^ipis received: (\d+) tlb shootdown, (\d+) reschedule \((\d+) cpus online\)$",
                     line) for line in run(boot, "interrupts")]
    ipis = [match for match in ipis if match]
    check(boot, len(ipis) == 1 and int(ipis[0].group(2)) > 0 and ipis[0].group(3) == "4",
          f"interrupts shows no reschedule IPI among 4 CPUs: {[m.group(0) for m in ipis]}")

    listing = run(boot, "cpu")
    check(boot, "cpus: 4 online" in listing, f"cpu does not count 4 CPUs: {listing}")
    for number in range(4):
        check(boot, any(line.startswith(f"  cpu {number}: apic id {number}") for line in listing),
              f"cpu does not list CPU {number}: {listing}")
    boot.check_running()


def test_kill_stops_a_spinner_running_on_another_cpu(qemu):
    """At -smp 2 a fresh spinner runs on the other CPU at once; `kill` stops
    it there (it checks its stop flag) and `ps` no longer lists it."""
    boot = shell(qemu, "smp-kill", qemu_args=["-smp", "2"])
    said = run(boot, "spin 60")
    victim = int(re.match(r"^spin: thread (\d+)", said[0]).group(1))
    deadline = time.monotonic() + 5
    while ps(boot).get(victim, ("", "", 0))[1] != "running":
        check(boot, time.monotonic() < deadline,
              f"the spinner does not run on the other CPU: {ps(boot)}")
        time.sleep(0.2)
    check(boot, run(boot, f"kill {victim}") == [f"kill: thread {victim} stopped"],
          "kill did not stop the spinner")
    check(boot, victim not in ps(boot), "a killed spinner is still listed")
    boot.check_running()


def test_a_panic_on_any_cpu_stops_the_others_and_reports_once(qemu):
    """At -smp 4 with spinners on the other CPUs, `panic` prints one report
    whose closing line names the CPU it ran on, and the other CPUs stop
    (no second report, the machine halts without a reset)."""
    boot = shell(qemu, "smp-panic", qemu_args=["-smp", "4"])
    for _ in range(3):
        run(boot, "spin 30")
    boot.send_serial(b"panic\r")
    boot.wait_for_line(r"^  the kernel has stopped", regex=True)
    time.sleep(1)
    lines = boot.serial_lines()
    heads = [line for line in lines if line.startswith("KERNEL PANIC")]
    check(boot, len(heads) == 1, f"expected one report, found {heads}")
    closing = [line for line in lines if line.startswith("  the kernel has stopped")]
    check(boot, len(closing) == 1 and re.match(
        r"^  the kernel has stopped on CPU [0-3] in thread \d+ \(shell\); restart the machine$",
        closing[0]), f"the closing line does not name the CPU and thread: {closing}")
    # Every CPU halted, the spinners' too (sampled twice: a halted CPU
    # stays halted).
    for _ in range(2):
        registers = boot.qmp().hmp("info registers -a")
        cpus = re.split(r"^(?=CPU#\d+)", registers, flags=re.M)[1:]
        check(boot, len(cpus) == 4 and all(" HLT=1" in cpu for cpu in cpus),
              "a CPU still runs after the panic")
        time.sleep(0.3)
    boot.check_running()


@pytest.mark.parametrize("command", ["poweroff", "reboot"])
def test_poweroff_and_reboot_with_four_cpus(qemu, command):
    """At -smp 4, with spinners on the other CPUs, `poweroff` and `reboot`
    end QEMU (`-no-reboot`) from whichever CPU the shell runs on."""
    boot = shell(qemu, f"smp-{command}", qemu_args=["-smp", "4"])
    for _ in range(3):
        run(boot, "spin 30")
    boot.send_serial(command.encode() + b"\r")
    status = boot.wait_exit(timeout=30)
    check(boot, status == 0, f"QEMU exited with {status} after {command}")


def test_without_acpi_the_boot_cpu_runs_alone_and_says_why(qemu):
    """`-machine pc,acpi=off -smp 2`: no MADT, so one CPU, and the line says so."""
    boot = qemu("smp-acpi-off", qemu_args=["-machine", "pc,acpi=off", "-smp", "2"])
    boot.wait_for_line("ready")
    match = cpus_line(boot)
    check(boot, match.group(0) == "cpus: 1 online (apic ids 0): no MADT, the boot CPU alone",
          f"unexpected: {match.group(0)!r}")
