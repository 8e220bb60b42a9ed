// Placeholder for the in-browser light client, which is written on another
// branch (web/src/light.js there) and replaces this file when it is merged.
// Until then the explorer's "Verify" button reaches this call and shows
// that the check cannot run.
export function verifyImpact() {
    throw new Error('light client not merged yet');
}
