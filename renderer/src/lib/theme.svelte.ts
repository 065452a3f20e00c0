export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'unet-studio.theme';

/** Light, dark or the system's choice; stored per browser and applied as <html data-theme>. */
class Theme {
  choice = $state<ThemeChoice>(readChoice());

  set(choice: ThemeChoice): void {
    this.choice = choice;
    localStorage.setItem(KEY, choice);
    apply(choice);
  }

  /** Cycles system → light → dark. */
  next(): void {
    this.set(this.choice === 'system' ? 'light' : this.choice === 'light' ? 'dark' : 'system');
  }
}

function readChoice(): ThemeChoice {
  const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
  const choice = stored === 'light' || stored === 'dark' ? stored : 'system';
  apply(choice);
  return choice;
}

function apply(choice: ThemeChoice): void {
  if (typeof document === 'undefined') return;
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export const theme = new Theme();
