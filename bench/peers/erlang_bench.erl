%% erlang_bench - the workloads of airs-bench (spawn, pingpong, fanin, ring,
%% pubsub, restart) on Erlang/OTP 25 (Debian erlang-nox), for bench/compare.
%% One JSON line per run, the same keys as airs-bench's, "impl":"erlang".
%%
%%   erlc -o DIR bench/peers/erlang_bench.erl
%%   erl -noshell +S 2:2 -pa DIR -run erlang_bench main WORKLOAD ARGS...
%%
%%   spawn N | pingpong M | fanin P K | ring N M | pubsub S M | restart N
%%
%% +S 2:2 gives the node 2 schedulers, as airs-bench's 2 workers. Every
%% counted message is a plain `!` to a process. pubsub goes through `pg`
%% (the publisher asks pg for the members of the group on every publish and
%% sends to each); restart goes through a real OTP `supervisor`
%% (one_for_one, intensity N+10 in 1 s as airs-bench's, so it never gives
%% up), with the logger's level at none: a child's exit is an error report
%% otherwise, written to the terminal 100,000 times.
%%
%% The node halts when the run is done: status 0, 2 for bad arguments (with
%% the usage on stderr), 1 for anything else.
-module(erlang_bench).
-behaviour(supervisor).
-export([main/1, init/1, start_crasher/1]).

-define(USAGE, "usage: erlang_bench spawn N | pingpong M | fanin P K | "
               "ring N M | pubsub S M | restart N").

main(Args) ->
    case parse(Args) of
        {ok, Workload, Counts} ->
            {Pid, Ref} = spawn_monitor(fun() -> run(Workload, Counts) end),
            receive
                {'DOWN', Ref, process, Pid, normal} ->
                    halt(0);
                {'DOWN', Ref, process, Pid, Why} ->
                    io:format(standard_error, "erlang_bench: ~p~n", [Why]),
                    halt(1)
            end;
        {error, Why} ->
            io:format(standard_error, "erlang_bench: ~s~n~s~n", [Why, ?USAGE]),
            halt(2)
    end.

parse([W | Rest]) ->
    Arity = #{"spawn" => 1, "pingpong" => 1, "fanin" => 2, "ring" => 2,
              "pubsub" => 2, "restart" => 1},
    case maps:find(W, Arity) of
        error -> {error, "unknown workload " ++ W};
        {ok, A} when A =/= length(Rest) -> {error, "wrong number of arguments"};
        {ok, _} ->
            Counts = [count(S) || S <- Rest],
            case lists:member(bad, Counts) of
                true -> {error, "counts are integers in 1..1000000000"};
                false -> {ok, list_to_atom(W), Counts}
            end
    end;
parse([]) ->
    {error, "no workload"}.

count(S) ->
    try list_to_integer(S) of
        N when N >= 1, N =< 1000000000 -> N;
        _ -> bad
    catch error:badarg -> bad
    end.

%% ---- the line

now_ns() -> erlang:monotonic_time(nanosecond).

report(Workload, Params, Ops, Ns, Extra) ->
    Secs = Ns / 1.0e9,
    Ps = lists:join(",", [io_lib:format("\"~s\":~b", [K, V]) || {K, V} <- Params]),
    io:format("{\"impl\":\"erlang\",\"workload\":\"~s\",\"params\":{~s},"
              "\"ops\":~b,\"seconds\":~.6f,\"ops_per_s\":~.1f,"
              "\"ns_per_op\":~.2f,\"workers\":~b~s}~n",
              [Workload, Ps, Ops, Secs, Ops / Secs, Ns / Ops,
               erlang:system_info(schedulers_online), Extra]).

%% Resident memory in bytes (/proc/self/statm, 4 KiB pages).
rss() ->
    {ok, Bin} = file:read_file("/proc/self/statm"),
    [_, Resident | _] = string:lexemes(binary_to_list(Bin), " \n"),
    list_to_integer(Resident) * 4096.

%% Waits for N messages that are exactly Tag.
collect(0, _) -> ok;
collect(N, Tag) -> receive Tag -> collect(N - 1, Tag) end.

%% ---- spawn N: N idle processes; then each gets one message and ends.

run(spawn, [N]) ->
    Me = self(),
    Before = rss(),
    T0 = now_ns(),
    Pids = [spawn(fun() -> receive go -> Me ! gone end end)
            || _ <- lists:seq(1, N)],
    T1 = now_ns(),
    After = rss(),
    [P ! go || P <- Pids],
    collect(N, gone),
    T2 = now_ns(),
    report(spawn, [{n, N}], N, T2 - T0,
           io_lib:format(",\"spawn_ns\":~.1f,\"bytes_per_actor\":~.1f",
                         [(T1 - T0) / N, (After - Before) / N]));

%% ---- pingpong M: a counter goes back and forth M round trips.

run(pingpong, [M]) ->
    Me = self(),
    T0 = now_ns(),
    Pong = spawn(fun pong/0),
    Ping = spawn(fun() -> ping(Pong, M, Me) end),
    Ping ! -1,  % the first ball, as if from pong
    receive pingpong_done -> ok end,
    T1 = now_ns(),
    exit(Pong, kill),
    report(pingpong, [{m, M}], 2 * M, T1 - T0, "");

%% ---- fanin P K: P senders each send K messages to one receiver.

run(fanin, [P, K]) ->
    Me = self(),
    Total = P * K,
    T0 = now_ns(),
    Sink = spawn(fun() -> sink(Total, Me) end),
    [spawn(fun() -> receive go -> send_n(Sink, K) end end) ! go
     || _ <- lists:seq(1, P)],
    receive fanin_done -> ok end,
    T1 = now_ns(),
    report(fanin, [{p, P}, {k, K}], Total, T1 - T0, "");

%% ---- ring N M: N processes in a ring pass one token M hops.

run(ring, [N, M]) ->
    Me = self(),
    Nodes = [spawn(fun() -> ring_start(Me) end) || _ <- lists:seq(1, N)],
    Nexts = tl(Nodes) ++ [hd(Nodes)],
    [Node ! {next, Next} || {Node, Next} <- lists:zip(Nodes, Nexts)],
    collect(N, ring_ready),  % every node knows its next: set-up done
    T0 = now_ns(),
    hd(Nodes) ! M,
    receive ring_done -> ok end,
    T1 = now_ns(),
    [exit(Node, kill) || Node <- Nodes],
    report(ring, [{n, N}, {m, M}], M, T1 - T0, "");

%% ---- pubsub S M: S members of one pg group; one publisher sends M
%% messages to the group's members; until every member has all M.

run(pubsub, [S, M]) ->
    Me = self(),
    {ok, _} = pg:start_link(),
    [spawn(fun() -> ok = pg:join(bench, self()), Me ! joined, subscriber(M, Me) end)
     || _ <- lists:seq(1, S)],
    collect(S, joined),
    Pub = spawn(fun() -> receive go -> publish(0, M) end end),
    T0 = now_ns(),
    Pub ! go,
    collect(S, subscriber_done),
    T1 = now_ns(),
    report(pubsub, [{s, S}, {m, M}], S * M, T1 - T0, "");

%% ---- restart N: a one_for_one supervisor restarts a child that crashes on
%% request, N times; each cycle waits until the new child has started.

run(restart, [N]) ->
    ok = logger:set_primary_config(level, none),
    {ok, Sup} = supervisor:start_link(?MODULE, {self(), N}),
    First = receive {started, P0} -> P0 end,  % the first start is set-up
    T0 = now_ns(),
    crash_n(N, First),
    T1 = now_ns(),
    unlink(Sup),
    exit(Sup, kill),
    report(restart, [{n, N}], N, T1 - T0, "").

%% ---- the processes

pong() ->
    receive {From, K} -> From ! K, pong() end.

ping(Pong, M, Parent) ->
    receive
        K when K + 1 >= M -> Parent ! pingpong_done;
        K -> Pong ! {self(), K + 1}, ping(Pong, M, Parent)
    end.

sink(0, Parent) -> Parent ! fanin_done;
sink(Left, Parent) -> receive _ -> sink(Left - 1, Parent) end.

send_n(_, 0) -> ok;
send_n(To, J) -> To ! J, send_n(To, J - 1).

ring_start(Parent) ->
    receive {next, Next} -> Parent ! ring_ready, ring(Next, Parent) end.

ring(Next, Parent) ->
    receive
        0 -> Parent ! ring_done, ring(Next, Parent);
        H -> Next ! H - 1, ring(Next, Parent)
    end.

subscriber(0, Parent) -> Parent ! subscriber_done;
subscriber(Left, Parent) -> receive _ -> subscriber(Left - 1, Parent) end.

publish(M, M) -> ok;
publish(J, M) ->
    [P ! J || P <- pg:get_members(bench)],
    publish(J + 1, M).

crash_n(0, _) -> ok;
crash_n(Left, Child) ->
    Child ! crash,
    receive {started, New} -> crash_n(Left - 1, New) end.

%% ---- the supervisor and its child

init({Driver, N}) ->
    Flags = #{strategy => one_for_one, intensity => N + 10, period => 1},
    Child = #{id => crasher, start => {?MODULE, start_crasher, [Driver]},
              restart => permanent, shutdown => brutal_kill, type => worker},
    {ok, {Flags, [Child]}}.

start_crasher(Driver) ->
    Pid = spawn_link(fun() ->
                             Driver ! {started, self()},
                             receive crash -> exit(crash) end
                     end),
    {ok, Pid}.
