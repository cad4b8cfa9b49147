import type { LauncherTemplateFragment } from '../../generated/graphql'

export interface LauncherFilter {
  search: string
  category: string | null
  favorites: ReadonlySet<string>
}

/** Case- and accent-insensitive text for matching. */
function fold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
}

/** Every word of the search must appear in the name, display name, description, category or tags. */
export function matchesSearch(template: LauncherTemplateFragment, search: string): boolean {
  const words = fold(search).split(/\s+/).filter(Boolean)
  if (!words.length) return true
  const haystack = fold([template.name, template.displayName, template.description, template.category, ...template.tags].join(' '))
  return words.every((word) => haystack.includes(word))
}

/** Launchable templates matching the filter: favorites first, then by display name. */
export function filterTemplates(templates: readonly LauncherTemplateFragment[], filter: LauncherFilter): LauncherTemplateFragment[] {
  return templates
    .filter((t) => t.valid !== false)
    .filter((t) => (filter.category ? t.category === filter.category : true))
    .filter((t) => matchesSearch(t, filter.search))
    .sort((a, b) => {
      const fa = filter.favorites.has(a.name) ? 0 : 1
      const fb = filter.favorites.has(b.name) ? 0 : 1
      return fa - fb || a.displayName.localeCompare(b.displayName) || a.name.localeCompare(b.name)
    })
}

/** Distinct categories, sorted, for the chips. */
export function categoriesOf(templates: readonly LauncherTemplateFragment[]): string[] {
  return [...new Set(templates.filter((t) => t.valid !== false && t.category).map((t) => t.category))].sort((a, b) => a.localeCompare(b))
}

export const APP_TYPE_LABEL: Record<string, string> = { webapp: 'Web app', desktop: 'Desktop', hybrid: 'Web app + desktop' }
