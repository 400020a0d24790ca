"""airs.osl: the system actors from Python. Each operation from a plain
thread (the clients) and from inside an actor (requests whose typed
replies arrive as messages), each error path as an exception or a failed
reply, the messages ports and sockets send on their own, and the
rest_for_one supervisor (restart order, fds back after the restarts)."""
import errno
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import unittest

from support import TIMEOUT, RuntimeTest, wait_until

import airs
from airs import osl
from airs.osl import fs, net, proc


class Driver(airs.Actor):
    """Runs ``("run", fn)`` as ``fn(self)`` inside its receive (what fn
    returns, or the exception it raised, goes to `inbox`) and puts every
    other message it receives into `inbox`."""

    def __init__(self, inbox):
        self.inbox = inbox

    def receive(self, message):
        if isinstance(message, tuple) and message[0] == "run":
            try:
                self.inbox.put(("ran", message[1](self)))
            except Exception as e:  # handed to the test
                self.inbox.put(("ran", e))
            return
        self.inbox.put(message)


class OslTest(RuntimeTest):
    """A runtime with the system actors, a temporary directory, and a
    Driver actor."""

    def setUp(self):
        super().setUp()
        self.sup = osl.start(self.rt)
        self.dir = tempfile.mkdtemp(prefix="airs-osl-")
        self.fs = osl.FileSystem(self.rt)
        self.procs = osl.Processes(self.rt)
        self.net = osl.Network(self.rt)
        self.driver = self.rt.spawn(Driver, (self.inbox,))
        self.skipped = []

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_in_driver(self, fn):
        """fn(driver) inside the driver's receive; returns its result."""
        self.rt.send(self.driver, ("run", fn))
        tag, value = self.next_of(tuple)
        self.assertEqual(tag, "ran")
        if isinstance(value, Exception):
            raise value
        return value

    def next_of(self, cls, timeout=TIMEOUT):
        """The first message of class `cls` the driver got; the others
        before it stay for later calls, in order (a socket's error may
        come before the reply that named the socket)."""
        for i, message in enumerate(self.skipped):
            if isinstance(message, cls):
                return self.skipped.pop(i)
        while True:
            message = self.inbox.get(timeout=timeout)
            if isinstance(message, cls):
                return message
            self.skipped.append(message)

    def reply_to(self, ref):
        """The value of the driver's Reply with correlation `ref`."""
        while True:
            message = self.next_of((airs.Reply, airs.RequestTimeout))
            if message.ref == ref:
                self.assertIsInstance(message, airs.Reply)
                return message.value


class FileSystemTest(OslTest):

    def test_every_operation_from_a_thread(self):
        p = self.path("a.txt")
        self.assertEqual(self.fs.write(p, b"hello"), 5)
        self.assertEqual(self.fs.append(p, b" world"), 6)
        self.assertEqual(self.fs.read(p), b"hello world")
        self.assertEqual(self.fs.read(p, offset=6, length=3), b"wor")
        st = self.fs.stat(p)
        self.assertEqual((st.type, st.size), (fs.FileType.FILE, 11))
        self.assertEqual(st.size, os.stat(p).st_size)
        self.fs.mkdir(self.path("sub"))
        self.assertEqual(self.fs.stat(self.path("sub")).type,
                         fs.FileType.DIR)
        self.fs.rename(p, self.path("b.txt"))
        self.assertEqual(self.fs.list(self.dir), ["b.txt", "sub"])
        self.fs.delete(self.path("b.txt"))
        self.fs.rmdir(self.path("sub"))
        self.assertEqual(self.fs.list(self.dir), [])

    def test_symlink_stat_follows_or_not(self):
        os.symlink("nowhere", self.path("link"))
        self.assertEqual(self.fs.stat(self.path("link"),
                                      follow_symlinks=False).type,
                         fs.FileType.SYMLINK)
        with self.assertRaises(airs.SystemCallError) as caught:
            self.fs.stat(self.path("link"))
        self.assertEqual(caught.exception.errno, errno.ENOENT)

    def test_os_errors_carry_errno_and_text(self):
        missing = self.path("missing")
        with self.assertRaises(airs.SystemCallError) as caught:
            self.fs.read(missing)
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.assertIn(missing, str(caught.exception))
        self.assertIn("No such file", str(caught.exception))
        self.fs.write(self.path("x"), b"1")
        cases = [(lambda: self.fs.write(self.path("x"), b"2",
                                        exclusive=True), errno.EEXIST),
                 (lambda: self.fs.mkdir(self.dir), errno.EEXIST),
                 (lambda: self.fs.rmdir(missing), errno.ENOENT),
                 (lambda: self.fs.list(self.path("x")), errno.ENOTDIR),
                 (lambda: self.fs.delete(missing), errno.ENOENT),
                 (lambda: self.fs.rename(missing, self.path("y")),
                  errno.ENOENT)]
        os.mkdir(self.path("full"))
        open(self.path("full/f"), "w").close()
        cases.append((lambda: self.fs.rmdir(self.path("full")),
                      errno.ENOTEMPTY))
        for call, code in cases:
            with self.subTest(code=errno.errorcode[code]):
                with self.assertRaises(airs.SystemCallError) as caught:
                    call()
                self.assertEqual(caught.exception.errno, code)

    def test_bad_paths_are_invalid_arguments(self):
        for bad in ["", "a\0b", b"x" * (fs.PATH_MAX + 1)]:
            with self.subTest(path=bad[:10]):
                with self.assertRaises(airs.InvalidArgumentError):
                    self.fs.read(bad)
        self.fs.write(self.path("ok"), b"")  # PATH_MAX itself is fine
        with self.assertRaises(TypeError):
            self.fs.read(12)

    def test_call_returns_the_reply_unchecked(self):
        reply = self.rt.call(osl.FS_NAME, fs.Read(self.path("none")))
        self.assertIsInstance(reply, fs.FsReply)
        self.assertFalse(reply.ok)
        self.assertEqual((reply.status, reply.errno),
                         (airs.errors.EOS, errno.ENOENT))
        self.assertIsInstance(reply.error(), airs.SystemCallError)
        with self.assertRaises(airs.SystemCallError):
            reply.check()
        self.fs.write(self.path("y"), b"data")
        reply = self.rt.call(osl.FS_NAME, fs.Read(self.path("y")))
        self.assertTrue(reply.ok)
        self.assertIs(reply.check(), reply)
        self.assertEqual(reply.data, b"data")
        with self.assertRaises(ValueError):
            self.rt.call(osl.FS_NAME, fs.Read(self.path("y")), type=5)

    def test_a_reply_of_another_kind_is_an_error_not_none(self):
        # A client pointed at an actor that answers with something else.
        class Other(airs.Actor):
            def receive(self, message):
                self.reply(["not", "an", "fs", "reply"])

        other = self.rt.spawn(Other)
        for client, request in [(self.fs, fs.Read(self.path("x"))),
                                (self.procs, proc.Spawn(["true"])),
                                (osl.Network(self.rt, name=other),
                                 net.Resolve("localhost"))]:
            with self.subTest(client=type(client).__name__):
                with self.assertRaises(airs.InvalidArgumentError) as caught:
                    if isinstance(client, osl.Network):
                        client.call(request)
                    else:
                        client.call(request, to=other)
                self.assertIn("not a reply of", str(caught.exception))
        self.assertEqual(self.rt._core.replies, {})  # nothing kept

    def test_data_must_be_bytes(self):
        for bad in [5, "text", None, [1, 2]]:
            with self.subTest(data=bad):
                with self.assertRaises(TypeError):
                    self.fs.write(self.path("d"), bad)
                with self.assertRaises(TypeError):
                    fs.FileWrite(bad)._airs_msg()
                with self.assertRaises(TypeError):
                    proc.Write(bad)._airs_msg()
        self.assertEqual(self.fs.write(self.path("d"), bytearray(b"ok")), 2)
        self.assertEqual(self.fs.append(self.path("d"), memoryview(b"!")), 1)
        self.assertEqual(self.fs.read(self.path("d")), b"ok!")

    def test_streaming_through_a_file_actor(self):
        p = self.path("big")
        chunk = bytes(range(256)) * 256  # 64 KiB
        with self.fs.open(p, "w") as f:
            for _ in range(16):
                self.assertEqual(f.write(chunk), len(chunk))
            f.sync()
            f.sync(data_only=True)
        self.assertEqual(os.path.getsize(p), 16 * len(chunk))
        with self.fs.open(p, "r") as f:
            got = []
            while True:
                part = f.read(100000)
                if not part:
                    break
                got.append(part)
            self.assertEqual(b"".join(got), chunk * 16)
            self.assertEqual(f.read(4, offset=256), bytes(range(4)))
        self.assertTrue(f.closed)
        f.close()  # twice: nothing
        with self.assertRaises(airs.NoProcessError):
            f.read(1)
        with self.fs.open(p, "a") as f:
            f.write(b"tail")
        with self.fs.open(p, "r+") as f:
            f.write(b"HEAD", offset=0)
        data = self.fs.read(p)
        self.assertEqual((data[:4], data[-4:]), (b"HEAD", b"tail"))

    def test_open_errors(self):
        with self.assertRaises(airs.SystemCallError) as caught:
            self.fs.open(self.path("missing"), "r")
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.fs.write(self.path("e"), b"")
        with self.assertRaises(airs.SystemCallError) as caught:
            self.fs.open(self.path("e"), "x")
        self.assertEqual(caught.exception.errno, errno.EEXIST)
        for mode in ["", "q", "rw", "rr", "w+x"]:
            with self.subTest(mode=mode):
                with self.assertRaises(ValueError):
                    fs.open_flags(mode)
        with self.fs.open(self.path("e"), "r") as f:
            with self.assertRaises(airs.SystemCallError) as caught:
                f.write(b"not open for writing")
            self.assertEqual(caught.exception.errno, errno.EBADF)
            with self.assertRaises(airs.InvalidArgumentError):
                f.read(0)

    def test_requests_from_an_actor(self):
        p = self.path("from-actor")
        ref = self.run_in_driver(
            lambda a: a.request(osl.FS_NAME, fs.Write(p, b"abc")))
        reply = self.reply_to(ref)
        self.assertEqual((type(reply), reply.ok, reply.value),
                         (fs.FsReply, True, 3))
        ref = self.run_in_driver(
            lambda a: a.request(osl.FS_NAME, fs.List(self.dir)))
        self.assertEqual(self.reply_to(ref).names, ["from-actor"])
        ref = self.run_in_driver(
            lambda a: a.request(osl.FS_NAME, fs.Read(p + "-no")))
        reply = self.reply_to(ref)
        self.assertEqual((reply.ok, reply.errno), (False, errno.ENOENT))
        # A file the actor opens is owned by it: read it by requests.
        ref = self.run_in_driver(
            lambda a: a.request(osl.FS_NAME, fs.Open(p, "r")))
        file = self.reply_to(ref).check().file
        self.assertTrue(self.rt.is_alive(file))
        ref = self.run_in_driver(lambda a: a.request(file, fs.FileRead(10)))
        self.assertEqual(self.reply_to(ref).data, b"abc")
        ref = self.run_in_driver(lambda a: a.request(file, fs.FileRead(10)))
        reply = self.reply_to(ref)
        self.assertEqual((reply.data, reply.eof), (b"", True))
        # ... and closed when its owner ends.
        self.rt.stop(self.driver)
        self.rt.wait(self.driver)
        self.assertTrue(wait_until(lambda: not self.rt.is_alive(file)))


class ProcessTest(OslTest):

    def spawn_in_driver(self, argv, **options):
        """Spawns from the driver (its owner); returns the ProcReply."""
        ref = self.run_in_driver(
            lambda a: a.request(osl.PROC_NAME, proc.Spawn(argv, **options)))
        return self.reply_to(ref).check()

    def output_and_exit(self, port):
        """(stdout bytes, stderr bytes, ProcessExit) of `port`'s child."""
        out, err = [], []
        while True:
            message = self.next_of((proc.ProcessOutput, proc.ProcessExit))
            self.assertEqual(message.port, port)
            if isinstance(message, proc.ProcessExit):
                return b"".join(out), b"".join(err), message
            (err if message.stderr else out).append(message.data)

    def test_output_and_exit_come_to_the_owner(self):
        spawned = self.spawn_in_driver(
            ["sh", "-c", "echo out; echo err >&2; exit 3"])
        self.assertGreater(spawned.os_pid, 0)
        out, err, exit = self.output_and_exit(spawned.port)
        self.assertEqual((out, err), (b"out\n", b"err\n"))
        self.assertEqual((exit.exited, exit.code, exit.os_pid),
                         (True, 3, spawned.os_pid))

    def test_arguments_environment_and_cwd(self):
        spawned = self.spawn_in_driver(
            ["sh", "-c", 'printf "%s|%s|%s" "$1" "$AIRS_X" "$(pwd)"', "sh",
             "arg one"], env={"AIRS_X": "x=y"}, cwd=self.dir)
        out, _, exit = self.output_and_exit(spawned.port)
        self.assertEqual(out.decode(),
                         f"arg one|x=y|{os.path.realpath(self.dir)}")
        self.assertEqual(exit.code, 0)

    def test_stdin_to_eof_reaches_cat_and_wc(self):
        for argv, expect in [(["cat"], b"hello\nworld\n"),
                             (["wc", "-c"], b"12")]:
            with self.subTest(program=argv[0]):
                spawned = self.spawn_in_driver(argv, stdin=True)
                port = spawned.port
                for part in (b"hello\n", b"world\n"):
                    ref = self.run_in_driver(
                        lambda a, part=part: a.request(port,
                                                       proc.Write(part)))
                    self.reply_to(ref).check()
                ref = self.run_in_driver(
                    lambda a: a.request(port, proc.CloseStdin()))
                self.reply_to(ref).check()
                out, _, exit = self.output_and_exit(port)
                self.assertEqual(out.strip(), expect.strip())
                self.assertEqual(exit.code, 0)

    def test_merged_and_discarded_streams(self):
        spawned = self.spawn_in_driver(
            ["sh", "-c", "echo a; echo b >&2"], stderr=proc.STDOUT)
        out, err, _ = self.output_and_exit(spawned.port)
        self.assertEqual((sorted(out.split()), err), ([b"a", b"b"], b""))
        spawned = self.spawn_in_driver(
            ["sh", "-c", "echo a; echo b >&2"], stderr=proc.DISCARD,
            stdout=proc.DISCARD)
        self.assertEqual(self.output_and_exit(spawned.port)[:2], (b"", b""))

    def test_from_a_thread_terminate_wait_signal(self):
        port = self.procs.spawn(["sleep", "30"], kill_grace_ms=200)
        with self.assertRaises(airs.TimeoutError):
            port.wait(timeout_ms=50)
        exit = port.terminate()
        self.assertEqual((exit.signaled, exit.signo),
                         (True, signal.SIGTERM))
        # Ignores SIGTERM (kept across exec), says so in a file once it
        # does: SIGKILL after 100 ms.
        ready = self.path("ready")
        port = self.procs.spawn(
            ["sh", "-c", f"trap '' TERM; : > {ready}; exec sleep 30"],
            kill_grace_ms=100)
        self.assertTrue(wait_until(lambda: os.path.exists(ready)))
        exit = port.terminate()
        self.assertEqual(exit.signo, signal.SIGKILL)
        port = self.procs.spawn(["sleep", "30"])
        port.signal(signal.SIGINT)
        self.assertEqual(port.wait().signo, signal.SIGINT)

    def test_thread_client_keeps_output_and_exit(self):
        port = self.procs.spawn(["sh", "-c", "echo out; echo err >&2"])
        exit = port.wait()
        self.assertEqual((exit.exited, exit.code, exit.port),
                         (True, 0, port.pid))
        self.assertEqual(port.output(), (b"out\n", b"err\n"))
        self.assertEqual(port.output(), (b"", b""))  # read once
        self.assertIs(port.wait(), exit)  # after its end too
        port = self.procs.spawn(["cat"], stdin=True)
        port.write(b"fed to cat")
        port.close_stdin()
        self.assertEqual(port.wait().code, 0)
        self.assertEqual(port.output()[0], b"fed to cat")

    def test_spawn_errors(self):
        with self.assertRaises(airs.SystemCallError) as caught:
            self.procs.spawn(["/nonexistent/program"])
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        with self.assertRaises(airs.SystemCallError) as caught:
            self.procs.spawn(["true"], cwd=self.path("missing"))
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        with self.assertRaises(TypeError):
            proc.Spawn("ls -l")
        with self.assertRaises(ValueError):
            proc.Spawn([])
        with self.assertRaises(ValueError):
            proc.Spawn(["true"], stderr="file")
        with self.assertRaises(airs.InvalidArgumentError):
            self.procs.spawn([""])
        with self.assertRaises(airs.InvalidArgumentError):
            proc.Signal(0)._airs_msg()
        with self.assertRaises(airs.InvalidArgumentError):
            proc.Wait(0)._airs_msg()
        port = self.procs.spawn(["sleep", "30"])  # stdin not a pipe
        with self.assertRaises(airs.StateError):
            port.write(b"x")
        with self.assertRaises(airs.StateError):
            port.close_stdin()
        port.terminate()
        with self.assertRaises(airs.NoProcessError):  # the port ended
            wait_until(lambda: not self.rt.is_alive(port.pid))
            port.terminate()

    def test_child_dies_with_its_owner(self):
        spawned = self.spawn_in_driver(["sleep", "30"])
        self.rt.kill(self.driver)
        self.assertTrue(wait_until(
            lambda: not os.path.exists(f"/proc/{spawned.os_pid}")))

    def test_watch_a_process_the_runtime_did_not_start(self):
        child = subprocess.Popen(["sleep", "0.2"])
        try:
            ref = self.run_in_driver(
                lambda a: a.request(osl.PROC_NAME, proc.Watch(child.pid)))
            watcher = self.reply_to(ref).check().watcher
            exit = self.next_of(proc.ProcessExit)
            self.assertEqual((exit.port, exit.os_pid, exit.unknown),
                             (watcher, child.pid, True))
        finally:
            child.wait()
        with self.assertRaises(airs.SystemCallError) as caught:
            self.procs.watch(2**22 + 12345, self.driver)
        self.assertEqual(caught.exception.errno, errno.ESRCH)


class Echo(airs.Actor):
    """Echoes what its sockets read; takes the connections its listener
    accepts."""

    def receive(self, message):
        if isinstance(message, net.SocketAccepted):
            sock = net.Socket(self.runtime, message.socket)
            sock.set_active(net.ACTIVE_ALWAYS)
        elif isinstance(message, net.SocketData):
            net.Socket(self.runtime, message.socket).send(message.data)


class NetworkTest(OslTest):

    def test_tcp_echo_through_the_network_actor(self):
        server = self.rt.spawn(Echo)
        listener, (host, port) = self.net.listen(
            ("127.0.0.1", 0), server, net.SocketOptions(active=5))
        self.assertEqual(host, "127.0.0.1")
        self.assertGreater(port, 0)
        self.assertEqual(listener.local_address(), (host, port))
        sock = self.net.connect((host, port), self.driver, timeout_ms=2000)
        self.assertEqual(self.next_of(net.SocketConnected).socket, sock.id)
        sock.set_active(net.ACTIVE_ALWAYS)
        sock.send(b"ping", ack=7)
        self.assertEqual(self.next_of(net.SocketSent),
                         net.SocketSent(sock.id, 7))
        got = b""
        while got != b"ping":
            message = self.next_of(net.SocketData)
            self.assertEqual(message.socket, sock.id)
            got += message.data
        self.assertEqual(sock.peer_address(), (host, port))
        self.assertGreaterEqual(net.socket_count(self.rt), 3)
        with self.assertRaises(TypeError):
            sock.send(5)  # not five NUL bytes
        with self.assertRaises(TypeError):
            sock.send("text")
        sock.close()
        with self.assertRaises(airs.NotFoundError):
            sock.send(b"closed")

    def test_connect_from_an_actor_is_refused(self):
        server = self.rt.spawn(Echo)
        listener, address = self.net.listen(("127.0.0.1", 0), server)
        listener.close()  # nobody listens there now
        ref = self.run_in_driver(
            lambda a: a.request(osl.NET_NAME, net.Connect(address)))
        reply = self.reply_to(ref).check()
        error = self.next_of(net.SocketError)
        self.assertEqual((error.socket, error.errno, error.op),
                         (reply.socket, errno.ECONNREFUSED, "connect"))
        self.assertIn("refused", error.text)

    def test_udp_datagrams(self):
        a, a_addr = self.net.udp_open(("127.0.0.1", 0), self.driver,
                                      net.SocketOptions(active=1))
        b, b_addr = self.net.udp_open("127.0.0.1:0", self.driver)
        b.send_to(a_addr, b"datagram")
        message = self.next_of(net.SocketDatagram)
        self.assertEqual((message.socket, message.peer, message.data,
                          message.truncated), (a.id, b_addr, b"datagram",
                                               False))
        self.assertEqual(self.next_of(net.SocketPassive).socket, a.id)

    def test_resolve_and_bad_addresses(self):
        addresses = self.net.resolve("localhost", 8080)
        self.assertTrue(addresses)
        self.assertTrue(all(port == 8080 for _, port in addresses))
        self.assertTrue({"127.0.0.1", "::1"} & {h for h, _ in addresses})
        self.assertEqual(self.net.resolve("::1", 1), [("::1", 1)])
        with self.assertRaises(airs.NotFoundError):  # EAI_NONAME
            self.net.resolve("name.invalid")
        for bad in ["localhost:80", "1.2.3.4", ("1.2.3.4", 70000),
                    "[::1:80"]:
            with self.subTest(address=bad):
                with self.assertRaises(airs.InvalidArgumentError):
                    self.net.connect(bad, self.driver)
        with self.assertRaises(TypeError):
            self.net.connect(80, self.driver)
        with self.assertRaises(ValueError):
            net.Resolve("")._airs_msg()
        with self.assertRaises(airs.NoProcessError):
            self.net.listen(("127.0.0.1", 0), 0)  # no owner from a thread


def fd_count():
    return len(os.listdir("/proc/self/fd"))


class SupervisorTest(RuntimeTest):

    def test_start_registers_three_children_in_order(self):
        sup = osl.start(self.rt, intensity=5, period_ms=1000,
                        name="osl.sup")
        self.assertEqual([c.id for c in sup.which_children()],
                         ["fs", "proc", "net"])
        self.assertEqual(self.rt.whereis("osl.sup"), sup.pid)
        for name in (osl.FS_NAME, osl.PROC_NAME, osl.NET_NAME):
            self.assertTrue(self.rt.is_alive(self.rt.whereis(name)))
        with self.assertRaises(airs.AlreadyExistsError):
            osl.start(self.rt)

    def test_rest_for_one_restarts_and_no_fd_leaks(self):
        osl.start(self.rt, intensity=100, period_ms=60000)
        names = (osl.FS_NAME, osl.PROC_NAME, osl.NET_NAME)
        fs_client = osl.FileSystem(self.rt)
        fs_client.list("/")  # the pool and reactor are up

        def pids():
            return [self.rt.whereis(n) for n in names]  # None: restarting

        base_fds = fd_count()
        for round, victim in enumerate([0, 1, 2] * 3):
            before = pids()
            self.rt.kill(before[victim])
            # The victim and the actors after it get new pids; those
            # before it keep theirs.
            self.assertTrue(wait_until(lambda: all(
                p is not None and p != before[i] and self.rt.is_alive(p)
                for i, p in enumerate(pids()) if i >= victim)), round)
            self.assertEqual(pids()[:victim], before[:victim], round)
            fs_client.list("/")
        self.assertLessEqual(fd_count(), base_fds)


if __name__ == "__main__":
    unittest.main()
