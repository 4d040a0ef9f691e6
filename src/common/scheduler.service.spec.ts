import { Scheduler } from './scheduler.service';

describe('Scheduler (local timers and deadlines in this process)', () => {
  let scheduler: Scheduler;
  beforeEach(() => {
    jest.useFakeTimers();
    scheduler = new Scheduler();
  });
  afterEach(() => {
    scheduler.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('runs a task once when due; scheduling the key again replaces it', async () => {
    const runs: string[] = [];
    scheduler.schedule('k', 100, () => void runs.push('first'));
    scheduler.schedule('k', 200, () => void runs.push('second'));
    await jest.advanceTimersByTimeAsync(150);
    expect(runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toEqual(['second']);
    expect(scheduler.has('k')).toBe(false);
  });

  it('runs a deadline through the handler of its kind, and cancel stops it', async () => {
    const seen: unknown[] = [];
    scheduler.define<{ id: number }>('ring', (payload) => void seen.push(payload));
    await scheduler.deadline('ring', 'a', 50, { id: 1 });
    await scheduler.deadline('ring', 'b', 50, { id: 2 });
    await scheduler.cancel('ring:b');
    await jest.advanceTimersByTimeAsync(60);
    expect(seen).toEqual([{ id: 1 }]);
    expect(() => scheduler.define('ring', () => undefined)).toThrow('already defined');
  });

  it('logs a failing task instead of throwing it', async () => {
    const logged = jest.spyOn(scheduler['logger'], 'error').mockImplementation(() => undefined);
    scheduler.schedule('bad', 10, () => Promise.reject(new Error('boom')));
    await jest.advanceTimersByTimeAsync(20);
    expect(logged).toHaveBeenCalledWith('timer bad failed: boom', expect.any(String));
  });

  it('after shutdown runs nothing, and a sweep that re-arms itself while stopping is not armed again', async () => {
    const runs: number[] = [];
    let release!: () => void;
    const sweep = async (): Promise<void> => {
      runs.push(runs.length);
      await new Promise<void>((resolve) => (release = resolve));
      scheduler.schedule('sweep', 10, sweep);
    };
    scheduler.schedule('sweep', 10, sweep);
    scheduler.schedule('other', 50, () => void runs.push(-1));
    await jest.advanceTimersByTimeAsync(10);
    expect(runs).toEqual([0]);
    scheduler.onApplicationShutdown();
    release();
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toEqual([0]);
    expect(scheduler.has('sweep')).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
