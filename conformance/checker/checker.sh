# runts conformance checker (busybox sh). Run it AS the container process:
#
#   args: ["sh", "-c", "<this file's text>", "checker", PROBE...]
#
# (the text is passed inline, not as a script file, so that the shell holds no
# extra fd while it lists its own fds). It prints TAP 13: one test point per
# probe, "ok" when the probe could be read, followed by "# " lines with the raw
# data. It judges nothing: conformance/lib/checker.ts parses the report and the
# tests compare it with the config.json the container was created from.
#
# Extra probes (positional arguments):
#   sysctl:KEY    the value of /proc/sys/KEY (dots become slashes)
#   path:P        stat of P (following links) and how much of it can be read
#   write:P       try to create the file P; report ok or the error
#   run:CMD       run CMD with sh -c; report its output and exit status
#   sleep:N       sleep N seconds after the report (keeps the container running)

n=0
point() { # point OK NAME: print a test point
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

echo "TAP version 13"

# Open fds of this process, listed by a child so that the list is not
# disturbed by the shell's own pipes (the shell holds only what it was given).
point 0 fds
sh -c 'cd /proc/'$$'/fd && for f in *; do echo "# $f $(readlink "$f")"; done'

point 0 pid
echo "# $$"

point 0 umask
echo "# $(umask)"

c=$(pwd -P 2>&1); r=$?
point $r cwd
echo "# $c"
echo "# $(readlink /proc/$$/cwd)"

report_file() { # report_file NAME FILE
  if [ -r "$2" ]; then
    point 0 "$1"
    sed 's/^/# /' "$2"
  else
    point 1 "$1"
    echo "# cannot read $2"
  fi
}

report_nul_file() { # report_nul_file NAME FILE: NUL-separated lists (environ, cmdline)
  if [ -r "$2" ]; then
    point 0 "$1"
    tr '\0\n' '\n\036' < "$2" | sed 's/^/# /'
  else
    point 1 "$1"
  fi
}

report_nul_file environ /proc/$$/environ
report_nul_file cmdline /proc/$$/cmdline
report_file status /proc/$$/status
report_file limits /proc/$$/limits
report_file mountinfo /proc/$$/mountinfo
report_file oom_score_adj /proc/$$/oom_score_adj
report_file cgroup /proc/$$/cgroup
report_file personality /proc/$$/personality
report_file timens_offsets /proc/$$/timens_offsets
report_file hostname /proc/sys/kernel/hostname
report_file domainname /proc/sys/kernel/domainname

point 0 ns
for ns in cgroup ipc mnt net pid pid_for_children time time_for_children user uts; do
  echo "# $ns $(readlink /proc/$$/ns/$ns 2>/dev/null)"
done

point 0 sched
grep -E '^(policy|prio) ' /proc/$$/sched 2>/dev/null | sed 's/ //g; s/^/# /'
echo "# ionice=$(ionice -p $$ 2>&1)"
echo "# nice=$(cut -d' ' -f19 /proc/$$/stat)"

point 0 tty
if [ -t 0 ]; then echo "# stdin-tty $(tty 2>/dev/null)"; else echo "# stdin-notty"; fi
if [ -t 1 ]; then echo "# stdout-tty"; else echo "# stdout-notty"; fi

point 0 dev
find /dev -maxdepth 2 2>/dev/null | while read -r f; do
  stat -c '# %n|%F|%t|%T|%a|%u|%g' "$f" 2>/dev/null
  [ -L "$f" ] && echo "# $f|->|$(readlink "$f")"
done

for a in "$@"; do
  case "$a" in
    sysctl:*)
      k=${a#sysctl:}
      f=/proc/sys/$(echo "$k" | tr . /)
      if v=$(cat "$f" 2>&1); then point 0 "$a"; else point 1 "$a"; fi
      echo "# $v" | sed '2,$s/^/# /'
      ;;
    path:*)
      p=${a#path:}
      if s=$(stat -L -c '%F|%t|%T|%a|%s' "$p" 2>&1); then
        point 0 "$a"
        echo "# stat $s"
        if [ -d "$p" ]; then
          echo "# entries $(ls -A "$p" 2>/dev/null | wc -l)"
        else
          echo "# readable-bytes $(head -c 4096 "$p" 2>/dev/null | wc -c)"
        fi
      else
        point 1 "$a"
        echo "# $s"
      fi
      ;;
    write:*)
      p=${a#write:}
      if e=$(touch "$p" 2>&1); then point 0 "$a"; echo "# written"; rm -f "$p"; else point 1 "$a"; echo "# $e"; fi
      ;;
    run:*)
      out=$(sh -c "${a#run:}" 2>&1); r=$?
      point 0 "$a"
      echo "$out" | sed 's/^/# /'
      echo "# exit=$r"
      ;;
    sleep:*) ;;
    *) point 1 "unknown probe $a" ;;
  esac
done

echo "1..$n"
for a in "$@"; do
  case "$a" in sleep:*) sleep "${a#sleep:}" ;; esac
done
