// @novnc/novnc ships no type declarations; this covers the part of RFB the portal uses.
declare module '@novnc/novnc' {
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, urlOrChannel: string | WebSocket, options?: { shared?: boolean; credentials?: { password?: string }; wsProtocols?: string[] })
    scaleViewport: boolean
    resizeSession: boolean
    focusOnClick: boolean
    viewOnly: boolean
    background: string
    disconnect(): void
    focus(): void
    sendCtrlAltDel(): void
  }
}
