// A 16550-compatible subset of UART registers (enough for firmware/drivers/uart_16550.c),
// byte-spaced at offsets 0..7, seen as two 32-bit words by the CPU:
//   word 0: [7:0] RBR (read) / THR (write) or DLL when LCR.DLAB, [15:8] IER or DLM,
//           [23:16] IIR (reads 0x01: no interrupt) / FCR (ignored), [31:24] LCR
//   word 1: [7:0] MCR, [15:8] LSR (DR bit 0, THRE bit 5, TEMT bit 6), [23:16] MSR, [31:24] SCR
// Reading word 0 with DLAB clear takes the received byte. One byte of holding register in each
// direction; bytes move on valid/ready streams: the simulation testbench bridges them to a TCP
// socket, the FPGA top to a serial line (eh_uart_phy.v) clocked by the divisor (DLM:DLL).
`default_nettype none
module eh_uart_regs (
    input  wire        clk,
    input  wire        resetn,
    input  wire        access,
    input  wire        word,
    input  wire [3:0]  wstrb,
    input  wire [31:0] wdata,
    output wire [31:0] rdata,
    output reg         tx_valid,
    output reg  [7:0]  tx_data,
    input  wire        tx_ready,
    input  wire        tx_busy,
    input  wire        rx_valid,
    input  wire [7:0]  rx_data,
    output wire        rx_ready,
    output wire [15:0] divisor
);
    reg [7:0] lcr, ier, mcr, scr, dll, dlm;
    wire dlab = lcr[7];
    wire is_read = access && wstrb == 4'b0;
    wire lsr_thre = !tx_valid;
    wire [7:0] lsr = {1'b0, lsr_thre && !tx_busy, lsr_thre, 4'b0, rx_valid};
    assign rdata = word ? {scr, 8'h00, lsr, mcr}
                        : {lcr, 8'h01, dlab ? dlm : ier, dlab ? dll : rx_data};
    assign rx_ready = is_read && !word && !dlab;
    assign divisor = {dlm, dll};

    always @(posedge clk) begin
        if (!resetn) begin
            lcr <= 8'h03; ier <= 8'h00; mcr <= 8'h00; scr <= 8'h00;
            dll <= 8'd1; dlm <= 8'd0;
            tx_valid <= 1'b0; tx_data <= 8'h00;
        end else begin
            if (tx_valid && tx_ready) tx_valid <= 1'b0;
            if (access && !word) begin
                if (wstrb[0]) begin
                    if (dlab) dll <= wdata[7:0];
                    else if (!tx_valid) begin tx_valid <= 1'b1; tx_data <= wdata[7:0]; end
                end
                if (wstrb[1]) begin if (dlab) dlm <= wdata[15:8]; else ier <= wdata[15:8]; end
                if (wstrb[3]) lcr <= wdata[31:24];
            end
            if (access && word) begin
                if (wstrb[0]) mcr <= wdata[7:0];
                if (wstrb[3]) scr <= wdata[31:24];
            end
        end
    end
endmodule
`default_nettype wire
