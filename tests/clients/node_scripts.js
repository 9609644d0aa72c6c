// Node.js users of Lua scripts, unchanged, against one server: ioredis' defineCommand (EVALSHA
// with its NOSCRIPT fallback, in a pipeline too), redlock 4 (acquire, extend and release are
// scripts), rate-limiter-flexible's RateLimiterRedis (one script per consume) and BullMQ,
// whose every queue operation is a script (add jobs, a Worker processes them, the completed
// and failed events, a delayed job, job counts). Run by scripts/node-clients.sh with NODE_PATH
// pointing at its npm install.
//
// Usage: node node_scripts.js PORT
// Prints one line per check and closes with 'N passed, N failed'; exits 1 on any failure.
'use strict';
const assert = require('assert');
const Redis = require('ioredis');
const { Queue, Worker, QueueEvents } = require('bullmq');
const Redlock = require('redlock');
const { RateLimiterRedis } = require('rate-limiter-flexible');

const port = Number(process.argv[2]);
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const checks = [];
const check = (name, fn) => checks.push([name, fn]);

check('ioredis_define_command', async () => {
  const r = new Redis(connection);
  r.defineCommand('incrTwo', {
    numberOfKeys: 2,
    lua: "return {redis.call('INCRBY', KEYS[1], ARGV[1]), redis.call('INCRBY', KEYS[2], ARGV[1])}",
  });
  await r.del('{n}:a', '{n}:b');
  await r.script('FLUSH');
  // The first call gets NOSCRIPT for its EVALSHA and falls back to EVAL.
  assert.deepStrictEqual(await r.incrTwo('{n}:a', '{n}:b', 3), [3, 3]);
  assert.deepStrictEqual(await r.incrTwo('{n}:a', '{n}:b', 4), [7, 7]);
  await r.script('FLUSH');
  // In a pipeline the NOSCRIPT retry is sent after the rest, so only the script's own reply
  // is fixed.
  const res = await r.pipeline().incrTwo('{n}:a', '{n}:b', 1).exists('{n}:a').exec();
  assert.deepStrictEqual(res, [[null, [8, 8]], [null, 1]]);
  assert.strictEqual(await r.get('{n}:b'), '8');
  const tx = await r.multi().incrTwo('{n}:a', '{n}:b', 1).exec();
  assert.deepStrictEqual(tx, [[null, [9, 9]]]);
  await r.del('{n}:a', '{n}:b');
  r.disconnect();
});

check('redlock_acquire_extend_release', async () => {
  const r = new Redis(connection);
  const redlock = new Redlock([r], { retryCount: 50, retryDelay: 20, retryJitter: 5 });
  const lock = await redlock.lock('locks:res', 2000);
  assert.strictEqual(await r.get('locks:res'), lock.value);
  const extended = await lock.extend(5000);
  assert.ok((await r.pttl('locks:res')) > 2000, 'extended');
  // A second holder waits until the first releases.
  const started = Date.now();
  const second = redlock.lock('locks:res', 2000);
  setTimeout(() => extended.unlock(), 200);
  const lock2 = await second;
  assert.ok(Date.now() - started >= 150, 'waited for the release');
  assert.strictEqual(await r.get('locks:res'), lock2.value);
  await lock2.unlock();
  assert.strictEqual(await r.exists('locks:res'), 0);
  r.disconnect();
});

check('rate_limiter_flexible_consume', async () => {
  const r = new Redis(connection);
  const limiter = new RateLimiterRedis({
    storeClient: r, keyPrefix: `rl${Date.now()}`, points: 3, duration: 5,
  });
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push((await limiter.consume('user')).remainingPoints);
  assert.deepStrictEqual(seen, [2, 1, 0]);
  let refused = null;
  try {
    await limiter.consume('user');
  } catch (res) {
    refused = res;
  }
  assert.ok(refused && refused.remainingPoints === 0 && refused.msBeforeNext > 0, refused);
  r.disconnect();
});

check('bullmq_worker_completes_jobs', async () => {
  const name = `q${Date.now()}`;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const done = [];
  const failed = [];
  const worker = new Worker(
    name,
    async (job) => {
      if (job.data.fail) throw new Error('asked to fail');
      return job.data.x * 2;
    },
    { connection, concurrency: 2 }
  );
  worker.on('completed', (job, value) => done.push([job.name, value]));
  worker.on('failed', (job, err) => failed.push([job.name, err.message]));
  const evCompleted = new Promise((resolve) =>
    events.on('completed', ({ jobId, returnvalue }) => resolve([jobId, returnvalue]))
  );
  const jobs = [];
  for (let i = 0; i < 5; i++) jobs.push(await queue.add(`job${i}`, { x: i }));
  const bad = await queue.add('bad', { fail: true }, { attempts: 1 });
  const late = await queue.add('late', { x: 100 }, { delay: 300 });
  const deadline = Date.now() + 15000;
  while ((done.length < 6 || failed.length < 1) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const [evId] = await evCompleted;
  assert.ok(evId, 'QueueEvents saw a completion');
  done.sort();
  assert.deepStrictEqual(done, [
    ['job0', 0], ['job1', 2], ['job2', 4], ['job3', 6], ['job4', 8], ['late', 200],
  ]);
  assert.deepStrictEqual(failed, [['bad', 'asked to fail']]);
  assert.strictEqual(await jobs[3].isCompleted(), true);
  assert.strictEqual((await queue.getJob(jobs[3].id)).returnvalue, 6);
  assert.strictEqual(await (await queue.getJob(bad.id)).isFailed(), true);
  assert.strictEqual((await queue.getJob(late.id)).returnvalue, 200);
  const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed');
  assert.deepStrictEqual(counts, { completed: 6, failed: 1, waiting: 0, delayed: 0 });
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
});

(async () => {
  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      console.log(`ok   ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}\n${e.stack}`);
    }
  }
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
