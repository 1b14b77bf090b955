/** The lab's one error class: a message that names the problem and what to do (shown as is). */
export class LabError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LabError';
  }
}

/** An error as it crosses from the worker to the page: `{message, known}`. */
export function errorMessage(error) {
  return { message: String(error?.message ?? error), known: error instanceof LabError };
}

/** The page's error again, from `errorMessage`'s form: a LabError when the lab raised it. */
export function fromMessage({ message, known }) {
  return known ? new LabError(message) : new Error(message);
}
