// How much occurrence math one request may do. Every next-date computation of a request spends
// from one Budget: a step per period, candidate day or year it looks at, and more per time-zone
// offset read. One series alone takes at most a fifth of it (the costliest known, and seeded random
// ones: test/unit/recurrence.test.ts), so completing one task or listing its occurrences always
// fits; a request that computes many costly series runs out, and is refused with nothing written
// (recurrence_too_complex), never answered with a guessed or missing date.

/**
 * Steps per request: about 10 ms of CPU once compiled (a step is 60 to 80 ns of arithmetic;
 * `npm run bench:recurrence`). 100 plain completions take about a tenth of it.
 */
export const REQUEST_STEPS = 150_000;

/** What reading a zone's offset costs in steps: an Intl format call takes about as long as 15 steps. */
export const OFFSET_STEPS = 15;

/** Thrown when a request's occurrence math needs more steps than its Budget holds. */
export class BudgetExceeded extends Error {
  constructor() {
    super("the occurrence math of this request needs more steps than one request may spend");
  }
}

export class Budget {
  #left: number;
  readonly total: number;

  constructor(steps = REQUEST_STEPS) {
    this.#left = steps;
    this.total = steps;
  }

  /** Takes `steps` from the budget; throws BudgetExceeded once it is spent. */
  spend(steps = 1): void {
    this.#left -= steps;
    if (this.#left < 0) throw new BudgetExceeded();
  }

  get spent(): number {
    return this.total - this.#left;
  }
}
