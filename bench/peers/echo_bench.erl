%% echo_bench - the Erlang/OTP peer for airs-bench's network workloads: a
%% gen_tcp echo server and its clients in one node, over 127.0.0.1. Prints
%% one JSON line per run, with the same keys as airs-bench (impl "erlang").
%%
%%   erlc -o DIR bench/peers/echo_bench.erl
%%   erl -noshell -pa DIR -s echo_bench main echo [N] -s init stop
%%   erl -noshell -pa DIR -s echo_bench main echo_many [C [M]] -s init stop
%%
%%   echo N          one connection, 1000 warm-up round trips, then N timed
%%                   ones (default 100000)
%%   echo_many C M   C connections (default 1000), one message in flight on
%%                   each, M timed round trips in all (default 1000000) after
%%                   one warm-up round trip per connection
%%
%% A round trip: a client writes a 64-byte message, the server reads it and
%% writes it back, the client receives until all 64 bytes came back (and
%% checks them). Its time (erlang:monotonic_time/1, from the client's send to
%% the last byte received) is recorded for p50_ns/p99_ns.
%%
%% The server is an acceptor process plus one process per connection that
%% echoes what it receives; each client connection is a process of its own.
%% Sockets are binary, {nodelay, true} and {active, 100}, re-armed on
%% tcp_passive, so the socket never floods a process's mailbox. The node
%% runs with its default schedulers (one per core); ERL_FLAGS="+S 1" in the
%% environment pins it to one. Bad arguments exit with status 2, any other
%% failure with status 1, each with a message on stderr.
-module(echo_bench).
-export([main/0, main/1]).

-define(MSG_SIZE, 64).
-define(ACTIVE, 100).
-define(ECHO_WARMUP, 1000).
-define(MAX_COUNT, 1000000000).
-define(MAX_CONNS, 1000000).

%% ---- entry: arguments and errors

main() -> main([]).

%% -s passes its arguments as atoms.
main(Args) ->
    try
        run([atom_to_list(A) || A <- Args])
    catch
        throw:{usage, Text} ->
            io:format(standard_error, "echo_bench: ~ts~n~ts", [Text, usage()]),
            halt(2);
        Class:Reason:Stack ->
            close_sockets(),
            io:format(standard_error, "echo_bench: ~p: ~p~n~p~n",
                      [Class, Reason, Stack]),
            halt(1)
    end.

%% Close every TCP socket of the node, whoever owns it: when the failure
%% was running out of descriptors, the node needs some back to load code
%% and to write to stderr.
close_sockets() ->
    [catch erlang:port_close(P)
     || P <- erlang:ports(), erlang:port_info(P, name) =:= {name, "tcp_inet"}],
    ok.

usage() ->
    "usage: erl -noshell -pa DIR -s echo_bench main WORKLOAD [ARGS] "
    "-s init stop\n"
    "  echo [N] | echo_many [C [M]]\n".

run(["echo" | Rest]) when length(Rest) =< 1 ->
    N = count_arg(Rest, 1, 100000, ?MAX_COUNT, "N"),
    bench(echo, [{n, N}], 1, ?ECHO_WARMUP, N);
run(["echo_many" | Rest]) when length(Rest) =< 2 ->
    C = count_arg(Rest, 1, 1000, ?MAX_CONNS, "C"),
    M = count_arg(Rest, 2, 1000000, ?MAX_COUNT, "M"),
    bench(echo_many, [{conns, C}, {msgs, M}], C, 1, M);
run([W | _]) when W =:= "echo"; W =:= "echo_many" ->
    throw({usage, "too many arguments"});
run([W | _]) ->
    throw({usage, "unknown workload '" ++ W ++ "'"});
run([]) ->
    throw({usage, "no workload"}).

%% The I-th argument as a count in 1..Max, or Default when absent.
count_arg(Args, I, Default, _Max, _Name) when length(Args) < I ->
    Default;
count_arg(Args, I, _Default, Max, Name) ->
    S = lists:nth(I, Args),
    case string:to_integer(S) of
        {V, ""} when V >= 1, V =< Max -> V;
        _ -> throw({usage, io_lib:format("~s must be an integer in 1..~b, "
                                         "not '~s'", [Name, Max, S])})
    end.

%% ---- the run: set up, warm up, time, report

%% Conns connections, Warmup untimed round trips on each, then Total timed
%% ones in all, one in flight per connection. The clients claim round trips
%% from a shared counter, so a connection whose reply is back starts the
%% next one while any are left, as the epoll peer does.
bench(Workload, Params, Conns, Warmup, Total) ->
    process_flag(trap_exit, true),
    Msg = message(),
    {ok, LSock} = gen_tcp:listen(0, [binary, {ip, {127, 0, 0, 1}},
                                     {active, false}, {nodelay, true},
                                     {reuseaddr, true}, {backlog, 1024}]),
    {ok, Port} = inet:port(LSock),
    spawn_link(fun() -> acceptor(LSock) end),
    Claims = atomics:new(1, []),
    Main = self(),
    Clients = [connect(Port, Main, Msg, Claims) || _ <- lists:seq(1, Conns)],
    [C ! {warmup, Warmup} || C <- Clients],
    [await_peer(C, warm) || C <- Clients],
    Start = erlang:monotonic_time(nanosecond),
    [C ! {go, Total} || C <- Clients],
    Done = [await_peer(C, done) || C <- Clients],
    End = lists:max([Start | [Last || {Last, _} <- Done]]),
    Lats = lists:sort(lists:append([L || {_, L} <- Done])),
    Total = length(Lats),
    report(Workload, Params, Total, End - Start, Lats),
    gen_tcp:close(LSock),
    ok.

%% The reply Tag from client C, or the failure of any linked process.
await_peer(C, Tag) ->
    receive
        {Tag, C, Result} -> Result;
        {'EXIT', Pid, Reason} when Reason =/= normal ->
            error({peer_failed, Pid, Reason})
    end.

message() ->
    list_to_binary([$a + I rem 26 || I <- lists:seq(0, ?MSG_SIZE - 1)]).

%% ---- the server: an acceptor and one echo process per connection

acceptor(LSock) ->
    case gen_tcp:accept(LSock) of
        {ok, Sock} ->
            Pid = spawn_link(fun() -> server_start() end),
            ok = gen_tcp:controlling_process(Sock, Pid),
            Pid ! {socket, Sock},
            acceptor(LSock);
        {error, closed} ->
            ok;
        {error, Reason} ->
            exit({accept, Reason})
    end.

server_start() ->
    receive
        {socket, Sock} ->
            ok = inet:setopts(Sock, [{active, ?ACTIVE}]),
            server_loop(Sock)
    end.

server_loop(Sock) ->
    receive
        {tcp, Sock, Data} ->
            ok = gen_tcp:send(Sock, Data),
            server_loop(Sock);
        {tcp_passive, Sock} ->
            ok = inet:setopts(Sock, [{active, ?ACTIVE}]),
            server_loop(Sock);
        {tcp_closed, Sock} ->
            ok;
        {tcp_error, Sock, Reason} ->
            exit({server_socket, Reason})
    end.

%% ---- the clients: one process per connection, one message in flight

%% Connect from the main process, then hand the socket to a new client
%% process (it is passive until the client owns it).
connect(Port, Main, Msg, Claims) ->
    {ok, Sock} = gen_tcp:connect({127, 0, 0, 1}, Port,
                                 [binary, {active, false}, {nodelay, true}]),
    Pid = spawn_link(fun() -> client_start(Main, Msg, Claims) end),
    ok = gen_tcp:controlling_process(Sock, Pid),
    Pid ! {socket, Sock},
    Pid.

client_start(Main, Msg, Claims) ->
    receive
        {socket, Sock} ->
            ok = inet:setopts(Sock, [{active, ?ACTIVE}]),
            client_loop(Sock, Main, Msg, Claims)
    end.

%% Wait for the main process's orders: warm up, then run the timed phase.
client_loop(Sock, Main, Msg, Claims) ->
    receive
        {warmup, W} ->
            [round_trip(Sock, Msg) || _ <- lists:seq(1, W)],
            Main ! {warm, self(), ok},
            client_loop(Sock, Main, Msg, Claims);
        {go, Total} ->
            Main ! {done, self(), timed(Sock, Msg, Claims, Total, 0, [])},
            client_loop(Sock, Main, Msg, Claims)
    end.

%% Claim and run round trips until Total have been claimed in all. Returns
%% the time the last of ours completed and each one's time.
timed(Sock, Msg, Claims, Total, Last, Lats) ->
    case atomics:add_get(Claims, 1, 1) =< Total of
        true ->
            {End, Lat} = round_trip(Sock, Msg),
            timed(Sock, Msg, Claims, Total, End, [Lat | Lats]);
        false ->
            {Last, Lats}
    end.

%% One round trip: {when it completed, how long it took}.
round_trip(Sock, Msg) ->
    T0 = erlang:monotonic_time(nanosecond),
    ok = gen_tcp:send(Sock, Msg),
    await_echo(Sock, Msg, <<>>),
    T1 = erlang:monotonic_time(nanosecond),
    {T1, T1 - T0}.

%% Receive until the whole message came back, in as many pieces as TCP
%% delivers it.
await_echo(Sock, Msg, Got) ->
    receive
        {tcp, Sock, Data} ->
            case <<Got/binary, Data/binary>> of
                Msg -> ok;
                Part when byte_size(Part) < ?MSG_SIZE ->
                    await_echo(Sock, Msg, Part);
                _ -> exit(echo_differs)
            end;
        {tcp_passive, Sock} ->
            ok = inet:setopts(Sock, [{active, ?ACTIVE}]),
            await_echo(Sock, Msg, Got);
        {tcp_closed, Sock} ->
            exit(connection_closed);
        {tcp_error, Sock, Reason} ->
            exit({client_socket, Reason})
    end.

%% ---- results

%% Nearest-rank percentile of a sorted, non-empty list.
percentile(Sorted, N, Pct) ->
    lists:nth(max(1, (N * Pct + 99) div 100), Sorted).

report(Workload, Params, Ops, Ns0, Lats) ->
    Ns = max(1, Ns0), % never divide by zero
    Secs = Ns / 1.0e9,
    P = lists:join(",", [io_lib:format("\"~s\":~b", [K, V])
                         || {K, V} <- Params]),
    io:format("{\"impl\":\"erlang\",\"workload\":\"~s\",\"params\":{~s},"
              "\"ops\":~b,\"seconds\":~.6f,\"ops_per_s\":~.1f,"
              "\"ns_per_op\":~.2f,\"p50_ns\":~b,\"p99_ns\":~b}~n",
              [Workload, P, Ops, Secs, Ops / Secs, Ns / Ops,
               percentile(Lats, Ops, 50), percentile(Lats, Ops, 99)]).
