/// The Lua scripts behind ``RedisSessionStore``. Each runs atomically in Redis, so a check and the change
/// it guards cannot interleave with another node's.
///
/// Key layout: every key of an account starts with `p:{<account>}` (the prefix `p` and the account id in
/// braces, a Redis Cluster hash tag), so each script touches one slot. Under it: `:s:<session hash>` (a
/// hash), `:as` (the account's sessions, a sorted set scored by last activity), `:rt:<token id>` (revoked
/// access tokens, expiring with them), `:wm` (sessions created at or before this time are revoked), `:st`
/// (the account's status as last written through from the database: `active` or `disabled`, expiring),
/// `:dev`, `:ip` and `:fail` (login history). Scripts that walk the account's sessions take the account's
/// key base (`p:{<account>}`) as an argument.
enum SessionScripts {
    /// Fields read back as a session, in this order.
    static let fields = "'account', 'created', 'last', 'idle', 'abs', 'level', 'ua', 'addr', 'fp', 'refresh'"

    /// Whether session fields `s` (read in `fields` order) describe a live session at `now` under watermark `wm`.
    static let isLive = """
        local function live(s, now, wm)
          return s[1] and now < tonumber(s[5]) and now - tonumber(s[3]) < tonumber(s[4]) and tonumber(s[2]) > wm
        end
        """

    /// Records the session's activity (KEYS[1] the session, KEYS[4] the account set, ARGV[1] now, ARGV[3]
    /// its hash), at most once a second: a session used many times a second is written once, and its
    /// idle expiry is late by less than a second.
    static let touch = """
        if now - tonumber(s[3]) >= 1000 then
          redis.call('HSET', KEYS[1], 'last', ARGV[1])
          redis.call('PEXPIRE', KEYS[1], math.min(tonumber(s[4]), tonumber(s[5]) - now))
          redis.call('ZADD', KEYS[4], now, ARGV[3])
          s[3] = ARGV[1]
        end
        """

    /// KEYS: session, account set. ARGV: now, limit, when-full, hash, account, ua, address, fingerprint,
    /// created, idle ms, absolute ms, level, refresh id, account key base.
    static let create = RedisScript(
        name: "session_create",
        """
        \(isLive)
        local now = tonumber(ARGV[1])
        local prefix = ARGV[14]
        local wm = tonumber(redis.call('GET', prefix .. ':wm') or '0')
        for _, h in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
          if not live(redis.call('HMGET', prefix .. ':s:' .. h, \(fields)), now, wm) then
            redis.call('DEL', prefix .. ':s:' .. h)
            redis.call('ZREM', KEYS[2], h)
          end
        end
        local evicted = {}
        local count = redis.call('ZCARD', KEYS[2])
        local limit = tonumber(ARGV[2])
        if count >= limit then
          if ARGV[3] == 'deny-new' then return redis.error_reply('LIMIT') end
          for _, h in ipairs(redis.call('ZRANGE', KEYS[2], 0, count - limit)) do
            redis.call('DEL', prefix .. ':s:' .. h)
            redis.call('ZREM', KEYS[2], h)
            table.insert(evicted, h)
          end
        end
        -- A session created after a logout-all is never covered by its watermark, whatever the clock of the
        -- node that wrote it (one running ahead would otherwise end the sessions created after it).
        local created = ARGV[9]
        if tonumber(created) <= wm then created = string.format('%.0f', wm + 1) end
        redis.call('HSET', KEYS[1], 'account', ARGV[5], 'ua', ARGV[6], 'addr', ARGV[7], 'fp', ARGV[8], 'created', created,
          'last', ARGV[1], 'idle', ARGV[10], 'abs', ARGV[11], 'level', ARGV[12], 'refresh', ARGV[13])
        local ttl = math.min(tonumber(ARGV[10]), tonumber(ARGV[11]) - now)
        redis.call('PEXPIRE', KEYS[1], ttl)
        redis.call('ZADD', KEYS[2], now, ARGV[4])
        if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[11]) - now then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[11]) - now) end
        return evicted
        """)

    /// KEYS: session, revoked-token, watermark, account set, account status. ARGV: now, account, hash,
    /// listing ('1'/'0'), account key base.
    /// Returns nil, or {status ('' when unknown), session fields (with the new last activity)}, followed
    /// with a listing by {hash, fields} for each of the account's live sessions.
    static let check = RedisScript(
        name: "session_check",
        """
        \(isLive)
        local now = tonumber(ARGV[1])
        local status = redis.call('GET', KEYS[5]) or ''
        if status == 'disabled' then return false end
        local s = redis.call('HMGET', KEYS[1], \(fields))
        if not s[1] or s[1] ~= ARGV[2] then return false end
        local wm = tonumber(redis.call('GET', KEYS[3]) or '0')
        if not live(s, now, wm) then
          redis.call('DEL', KEYS[1])
          redis.call('ZREM', KEYS[4], ARGV[3])
          return false
        end
        if redis.call('EXISTS', KEYS[2]) == 1 then return false end
        \(touch)
        local result = {status, s}
        if ARGV[4] == '1' then
          for _, h in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
            local other = s
            if h ~= ARGV[3] then other = redis.call('HMGET', ARGV[5] .. ':s:' .. h, \(fields)) end
            if other[1] == ARGV[2] and live(other, now, wm) then
              table.insert(result, h)
              table.insert(result, other)
            end
          end
        end
        return result
        """)

    /// KEYS: session, watermark, account set. ARGV: now, account, hash, presented, next, report-stale ('1'/'0').
    /// Returns {'rotated', generation, fields...}, {'reused'}, {'stale', generation} (a token that is not
    /// the current one, left alone when asked to report) or nil. `gen` counts rotations (absent: 0).
    static let rotateRefresh = RedisScript(
        name: "session_rotate_refresh",
        """
        \(isLive)
        local now = tonumber(ARGV[1])
        local s = redis.call('HMGET', KEYS[1], \(fields))
        if not s[1] or s[1] ~= ARGV[2] then return false end
        if not live(s, now, tonumber(redis.call('GET', KEYS[2]) or '0')) then
          redis.call('DEL', KEYS[1])
          redis.call('ZREM', KEYS[3], ARGV[3])
          return false
        end
        local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
        if s[10] ~= ARGV[4] then
          if ARGV[6] == '1' then return {'stale', gen} end
          redis.call('DEL', KEYS[1])
          redis.call('ZREM', KEYS[3], ARGV[3])
          return {'reused'}
        end
        gen = gen + 1
        redis.call('HSET', KEYS[1], 'refresh', ARGV[5], 'last', ARGV[1], 'gen', gen)
        redis.call('PEXPIRE', KEYS[1], math.min(tonumber(s[4]), tonumber(s[5]) - now))
        redis.call('ZADD', KEYS[3], now, ARGV[3])
        s[3] = ARGV[1]
        s[10] = ARGV[5]
        local result = {'rotated', gen}
        for _, v in ipairs(s) do table.insert(result, v) end
        return result
        """)

    /// KEYS: session, watermark, account set. ARGV: now, account, hash, expected generation, next, generation.
    /// Brings a session that is behind the durable ledger forward: sets the refresh token and rotation
    /// count if the count is still the expected one. Returns {'rotated', generation, fields...} or nil.
    static let adoptRefresh = RedisScript(
        name: "session_adopt_refresh",
        """
        \(isLive)
        local now = tonumber(ARGV[1])
        local s = redis.call('HMGET', KEYS[1], \(fields))
        if not s[1] or s[1] ~= ARGV[2] then return false end
        if not live(s, now, tonumber(redis.call('GET', KEYS[2]) or '0')) then return false end
        if tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') ~= tonumber(ARGV[4]) then return false end
        redis.call('HSET', KEYS[1], 'refresh', ARGV[5], 'last', ARGV[1], 'gen', ARGV[6])
        redis.call('PEXPIRE', KEYS[1], math.min(tonumber(s[4]), tonumber(s[5]) - now))
        redis.call('ZADD', KEYS[3], now, ARGV[3])
        s[3] = ARGV[1]
        s[10] = ARGV[5]
        local result = {'rotated', tonumber(ARGV[6])}
        for _, v in ipairs(s) do table.insert(result, v) end
        return result
        """)

    /// KEYS: account set, watermark, account status. ARGV: watermark, account key base.
    /// Raises the watermark and ends the sessions created at or before it (and only those). Run by the
    /// ledger replay after a restart or a rollback, it also drops the account's cached status: a snapshot
    /// can hold `disabled` for an account enabled since (the next check reads the database).
    static let applyWatermark = RedisScript(
        name: "session_apply_watermark",
        """
        redis.call('DEL', KEYS[3])
        local wm = tonumber(ARGV[1])
        local current = tonumber(redis.call('GET', KEYS[2]) or '0')
        if wm > current then redis.call('SET', KEYS[2], ARGV[1]) end
        for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local created = redis.call('HGET', ARGV[2] .. ':s:' .. h, 'created')
          if not created or tonumber(created) <= wm then
            redis.call('DEL', ARGV[2] .. ':s:' .. h)
            redis.call('ZREM', KEYS[1], h)
          end
        end
        return 1
        """)

    /// KEYS: session, account set. ARGV: account, hash. Returns 1 if revoked.
    static let revoke = RedisScript(
        name: "session_revoke",
        """
        if redis.call('HGET', KEYS[1], 'account') ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[2])
        return 1
        """)

    /// KEYS: account set, watermark. ARGV: except ('' for none), watermark ('' for none), account key base.
    /// Returns the revoked hashes.
    static let revokeAll = RedisScript(
        name: "session_revoke_all",
        """
        local revoked = {}
        for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          if h ~= ARGV[1] then
            redis.call('DEL', ARGV[3] .. ':s:' .. h)
            redis.call('ZREM', KEYS[1], h)
            table.insert(revoked, h)
          end
        end
        if ARGV[2] ~= '' then
          local current = tonumber(redis.call('GET', KEYS[2]) or '0')
          if tonumber(ARGV[2]) > current then redis.call('SET', KEYS[2], ARGV[2]) end
        end
        return revoked
        """)

    /// KEYS: devices, addresses. ARGV: now, fingerprint, user agent, address, window start.
    /// Returns {is new device (0/1), distinct addresses}.
    static let recordLogin = RedisScript(
        name: "session_record_login",
        """
        local known = redis.call('HLEN', KEYS[1])
        local existing = redis.call('HGET', KEYS[1], ARGV[2])
        local first = tonumber(ARGV[1])
        if existing then first = cjson.decode(existing).first end
        redis.call('HSET', KEYS[1], ARGV[2], cjson.encode({ua = ARGV[3], first = first, last = tonumber(ARGV[1])}))
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
        redis.call('ZADD', KEYS[2], ARGV[1], ARGV[4])
        local isNew = 0
        if known > 0 and not existing then isNew = 1 end
        return {isNew, redis.call('ZCARD', KEYS[2])}
        """)

    /// KEYS: failures. ARGV: now, window start, unique member, window ms. Returns failures in the window.
    static let recordFailure = RedisScript(
        name: "session_record_failure",
        """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return redis.call('ZCARD', KEYS[1])
        """)
}
